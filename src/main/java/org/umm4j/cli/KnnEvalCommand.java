package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.eval.Accuracy;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.eval.KnnClassifier;
import org.umm4j.io.AtomicFiles;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.Taps;
import org.umm4j.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code umm4j knn-eval}: the k-NN accuracy (UMM paper protocol, {@link KnnClassifier#paperDefault()}: 5 nearest
 * neighbours by cosine similarity, majority vote) of the pooled features ({@link Taps#POOL}, inference mode) of a
 * pretraining run's latest checkpoint: the training split (as recorded in the manifest) is the memory bank, the test
 * split the queries. With {@code --random} the same network shape is freshly initialised instead (the baseline a
 * pretrained network must beat). Images are normalised as the run's recipe did (CIFAR-10 constants below 64 px,
 * ImageNet's above), no augmentation. Prints one line and writes {@code knn.json} (or {@code knn-random.json})
 * into the run directory. A deliberately small command; the full evaluation lives in {@code umm4j eval}.
 */
@Command(name = "knn-eval", mixinStandardHelpOptions = true,
        description = "k-NN (k = 5, majority, cosine) accuracy of the pooled features of a pretraining run's latest "
                + "checkpoint, train split vs test split.")
public final class KnnEvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "Run directory written by umm4j pretrain.")
    Path run;

    @Option(names = "--random", description = "Evaluate a randomly initialised network of the run's shape instead.")
    boolean random;

    @Option(names = "--batch", defaultValue = "256", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        Umm4jBackend.init();
        RunInputs in = RunInputs.open(run);
        @SuppressWarnings("unchecked")
        BackboneOptions bb = BackboneOptions.fromManifest((Map<String, ?>) in.run.manifest().get("config"));
        long seed = in.run.seed();
        ImageDataset train = in.train();
        ImageDataset test = in.test();
        ComputationGraph g;
        String what;
        if (random) {
            g = Backbone.create(bb.config(train, seed)).graph();
            what = "random init";
        } else {
            Checkpoint c = Checkpoint.latest(run).orElseThrow(() -> new IllegalArgumentException(run + " holds no checkpoint"));
            g = c.restoreGraph(false);
            what = "epoch " + (c.epoch() + 1);
        }
        Normalize norm = in.normalize(train);
        FeatureExtractor fx = new FeatureExtractor(g, norm, batch);
        INDArray ftrain = fx.extract(train, Taps.POOL).get(Taps.POOL);
        INDArray ftest = fx.extract(test, Taps.POOL).get(Taps.POOL);
        Accuracy a = KnnClassifier.paperDefault().evaluate(ftrain, labels(train), ftest, labels(test), train.numClasses());
        System.out.printf(Locale.ROOT, "knn (k=5 majority) %s: top1 %.4f top5 %.4f (%d train, %d test, %d features)%n",
                what, a.top1(), a.top5(), train.size(), test.size(), ftrain.columns());
        String json = String.format(Locale.ROOT, "{\"network\": \"%s\", \"k\": 5, \"top1\": %.6f, \"top5\": %.6f, "
                + "\"train\": %d, \"test\": %d}%n", what, a.top1(), a.top5(), train.size(), test.size());
        AtomicFiles.writeString(run.resolve(random ? "knn-random.json" : "knn.json"), json);
        return 0;
    }

    private static int[] labels(ImageDataset d) {
        int[] l = new int[d.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = d.label(i);
        }
        return l;
    }
}
