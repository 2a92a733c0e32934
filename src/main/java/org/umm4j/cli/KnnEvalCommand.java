package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.eval.Accuracy;
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
        INDArray ftrain = pooled(g, train, norm, batch);
        INDArray ftest = pooled(g, test, norm, batch);
        Accuracy a = KnnClassifier.paperDefault().evaluate(ftrain, labels(train), ftest, labels(test), train.numClasses());
        System.out.printf(Locale.ROOT, "knn (k=5 majority) %s: top1 %.4f top5 %.4f (%d train, %d test, %d features)%n",
                what, a.top1(), a.top5(), train.size(), test.size(), ftrain.columns());
        String json = String.format(Locale.ROOT, "{\"network\": \"%s\", \"k\": 5, \"top1\": %.6f, \"top5\": %.6f, "
                + "\"train\": %d, \"test\": %d}%n", what, a.top1(), a.top5(), train.size(), test.size());
        AtomicFiles.writeString(run.resolve(random ? "knn-random.json" : "knn.json"), json);
        return 0;
    }

    /** Pooled features [n, d] in inference mode, normalised images, no augmentation. */
    static INDArray pooled(ComputationGraph g, ImageDataset d, Normalize norm, int batch) {
        int n = d.size();
        int c = d.channels();
        int plane = d.height() * d.width();
        float[] mean = norm.mean();
        float[] std = norm.std();
        INDArray out = null;
        byte[] img = new byte[d.imageBytes()];
        for (int from = 0; from < n; from += batch) {
            int m = Math.min(batch, n - from);
            float[] buf = new float[m * c * plane];
            for (int i = 0; i < m; i++) {
                d.copyImage(from + i, img, 0);
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < plane; p++) {
                        int k = ch * plane + p;
                        buf[i * c * plane + k] = ((img[k] & 0xff) / 255f - mean[ch]) / std[ch];
                    }
                }
            }
            INDArray x = Nd4j.create(buf, new long[]{m, c, d.height(), d.width()}, 'c');
            INDArray f = g.feedForward(x, false).get(Taps.POOL).castTo(DataType.FLOAT).dup();
            if (out == null) {
                out = Nd4j.create(DataType.FLOAT, n, f.columns());
            }
            out.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + m),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(f);
        }
        return out;
    }

    private static int[] labels(ImageDataset d) {
        int[] l = new int[d.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = d.label(i);
        }
        return l;
    }
}
