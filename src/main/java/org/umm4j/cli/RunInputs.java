package org.umm4j.cli;

import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Normalize;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.train.RunDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the evaluation commands need from a run directory: its manifest's dataset options
 * ({@link DatasetOptions#fromManifest}), the training and test images (the same class-balanced subsets the run saw,
 * drawn with the run's seed) and the recipe's normalisation.
 */
final class RunInputs {
    final RunDirectory run;
    final DatasetOptions dataset;
    final String recipe;

    private RunInputs(RunDirectory run, DatasetOptions dataset, String recipe) {
        this.run = run;
        this.dataset = dataset;
        this.recipe = recipe;
    }

    /**
     * @throws IllegalArgumentException if {@code dir} is not a run directory or its manifest lacks the dataset options
     */
    @SuppressWarnings("unchecked")
    static RunInputs open(Path dir) {
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--run " + dir + " is not a directory");
        }
        if (!RunDirectory.exists(dir)) {
            throw new IllegalArgumentException("--run " + dir + " is not a run directory (no "
                    + RunDirectory.MANIFEST + "); point it at the folder umm4j pretrain wrote");
        }
        RunDirectory run = RunDirectory.open(dir);
        Object cfg = run.manifest().get("config");
        if (!(cfg instanceof Map<?, ?> m) || m.get("dataset") == null) {
            throw new IllegalArgumentException("the manifest of " + dir + " has no dataset options (config.dataset, "
                    + "config.dataDir, ...): it was not written by umm4j pretrain");
        }
        Map<String, Object> config = (Map<String, Object>) m;
        Object recipe = config.get("recipe");
        return new RunInputs(run, DatasetOptions.fromManifest(config), recipe == null ? null : recipe.toString());
    }

    ImageDataset train() throws IOException {
        return dataset.load(Split.TRAIN, run.seed());
    }

    ImageDataset test() throws IOException {
        return dataset.load(Split.TEST, run.seed());
    }

    Normalize normalize(ImageDataset d) {
        // the rule pretraining used for these images (the recipe name alone cannot tell 96 px STL-10 from CIFAR)
        return FeatureExtractor.normalizeFor(d);
    }
}
