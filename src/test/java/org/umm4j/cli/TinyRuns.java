package org.umm4j.cli;

import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipes;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Tiny pretraining runs (synthetic data, 20 training and 40 test images, width 0.0625, one epoch of batch 8) for the CLI tests. */
final class TinyRuns {
    private TinyRuns() {
    }

    /**
     * @param withOptions whether the manifest records the dataset and backbone options (as {@code umm4j pretrain}
     *                    does); without them the evaluation commands must refuse the run
     */
    static Path simclr(Path out, boolean withOptions) throws Exception {
        DatasetOptions d = DatasetOptions.of("synthetic", null, 20, 40);
        BackboneOptions b = BackboneOptions.of("resnet18", 0.0625, "cifar", 1.0 / 64);
        ImageDataset data = d.load(Split.TRAIN, 11);
        Map<String, Object> m = new LinkedHashMap<>();
        if (withOptions) {
            m.putAll(d.toManifest());
            m.putAll(b.toManifest());
            // Pretrainer.optManifest copies with Map.copyOf, which rejects the null dataDir of synthetic data
            m.values().removeIf(java.util.Objects::isNull);
        }
        Pretrainer.builder().setDataset(data).setRecipe(Recipes.simclrCifar())
                .setMethod(Methods.create(MethodConfig.of("simclr", b.config(data, 11), 10, 5).withHeadScale(b.headScale())))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(11)
                .optManifest(m).build().run(false);
        return out;
    }
}
