package org.umm4j.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.crr.CodingRate;
import org.umm4j.crr.Memberships;
import org.umm4j.data.Datasets;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.Subsets;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipes;
import org.umm4j.eval.KnnClassifier;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The UMM must-show on the CIFAR-10 subset: a narrow ResNet-18 pretrained with SimCLR, then from its last
 * checkpoint (a) UMM fine-tuning, (b) the control (plain SSL training of f_l, same steps), (c) lambda = 0 ("*"),
 * (d) beta = 0 ("**"); 5-NN accuracy ({@link KnnClassifier#paperDefault()}) of the last layer (pooled features,
 * train subset as memory bank, CIFAR-10 test subset as queries) and dR of the test features (eps 0.5, instance
 * membership top-10, tau 0.5). Prints a Markdown table.
 *
 * <p>Args: {@code dataDir out trainLimit width pretrainEpochs ummEpochs batch lr seeds...}
 */
public final class UmmCifarExperiment {
    private UmmCifarExperiment() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int trainLimit = Integer.parseInt(args[2]);
        double width = Double.parseDouble(args[3]);
        int preEpochs = Integer.parseInt(args[4]);
        int ummEpochs = Integer.parseInt(args[5]);
        int batch = Integer.parseInt(args[6]);
        double lr = Double.parseDouble(args[7]);
        long[] seeds = new long[Math.max(1, args.length - 8)];
        seeds[0] = 1;
        for (int i = 8; i < args.length; i++) {
            seeds[i - 8] = Long.parseLong(args[i]);
        }
        Umm4jBackend.init();
        ImageDataset train = Datasets.load("cifar10", dataDir, Split.TRAIN);
        if (trainLimit > 0 && trainLimit < train.size()) {
            train = Subsets.classBalancedFraction(train, (double) trainLimit / train.size(), 7);
        }
        ImageDataset test = Datasets.load("cifar10", dataDir, Split.TEST);
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                .optWidthMultiplier(width).optSeed(1).build();
        INDArray xTrain = normalized(train);
        INDArray xTest = normalized(test);
        int[] yTrain = labels(train);
        int[] yTest = labels(test);
        long t0 = System.nanoTime();
        Path pre = out.resolve("pretrain");
        // -Dumm4j.method=byol runs the same experiment for BYOL (its recipe, EMA target kept in the checkpoints)
        String methodName = System.getProperty("umm4j.method", "simclr");
        org.umm4j.data.augment.Recipe recipe = methodName.equals("byol") ? Recipes.byolCifar() : Recipes.simclrCifar();
        SslMethod simclr = Methods.create(MethodConfig.of(methodName, rc, 1000, 1).withHeadScale(1.0 / 16));
        java.util.Optional<Checkpoint> done = Checkpoint.latest(pre);
        if (done.isEmpty() || done.get().epoch() + 1 < preEpochs) { // a shorter earlier pretraining is extended
            Pretrainer.builder().setDataset(train).setRecipe(recipe).setMethod(simclr)
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(preEpochs).setBatchSize(batch).setOut(pre).optSeed(1)
                .optEpochListener((g, e) -> Map.of("knn", knn(g, xTrain, yTrain, xTest, yTest)), List.of("knn"))
                .build().run(done.isPresent());
        }
        System.out.printf(Locale.ROOT, "pretraining: %d epochs in %.0f s; per-epoch last-layer 5-NN in %s%n", preEpochs,
                (System.nanoTime() - t0) / 1e9, pre.resolve("metrics.csv"));
        Checkpoint src = Checkpoint.latest(pre).orElseThrow();
        ComputationGraph g0 = src.restoreGraph(false);
        double knn0 = knn(g0, xTrain, yTrain, xTest, yTest);
        double dr0 = dR(g0, xTest);
        System.out.printf(Locale.ROOT, "| start (pretrained, epoch %d) | - | %.2f | %.3f | - |%n", src.epoch() + 1, 100 * knn0, dr0);

        Map<String, UmmConfig> variants = new LinkedHashMap<>();
        UmmConfig base = UmmConfig.defaults().withMembershipTopK(10);
        variants.put("UMM (beta 1, lambda 1)", base);
        variants.put("control: SSL of f_l", base);
        variants.put("* (lambda 0, JS only)", base.withWeights(1, 0));
        variants.put("** (beta 0, CRR only)", base.withWeights(0, 1));
        System.out.println("| run | seed | 5-NN top-1 (%) | dR (test) | minutes |");
        System.out.println("|---|---|---|---|---|");
        for (long seed : seeds) {
            for (Map.Entry<String, UmmConfig> v : variants.entrySet()) {
                long t1 = System.nanoTime();
                boolean control = v.getKey().startsWith("control");
                Path o = out.resolve("s" + seed + "-" + v.getKey().replaceAll("[^A-Za-z0-9]+", "_"));
                ComputationGraph g = UmmFineTuner.builder().setSource(src).setDataset(train)
                        .setRecipe(recipe).setMethod(Methods.create(MethodConfig.of(methodName, rc, 1000, 1)
                                .withHeadScale(1.0 / 16))).setOut(o).setEpochs(ummEpochs).setBatchSize(batch)
                        .optUmm(v.getValue()).optLr(lr).optSeed(seed).optTap(Taps.EARLY_DEFAULT)
                        .optMode(control ? UmmFineTuner.Mode.SSL_LAST : UmmFineTuner.Mode.UMM).build().run(false).graph();
                System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %.3f | %.1f |%n", v.getKey(), seed,
                        100 * knn(g, xTrain, yTrain, xTest, yTest), dR(g, xTest), (System.nanoTime() - t1) / 60e9);
            }
        }
    }

    /** Pooled (last-layer) features in inference mode, in chunks. */
    static INDArray features(ComputationGraph g, INDArray x) {
        INDArray[] parts = new INDArray[(int) ((x.size(0) + 255) / 256)];
        for (int i = 0; i < parts.length; i++) {
            long a = i * 256L;
            long b = Math.min(x.size(0), a + 256);
            INDArray xi = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(a, b));
            parts[i] = g.feedForward(new INDArray[]{xi}, false, false).get(Taps.POOL).dup();
        }
        return Nd4j.concat(0, parts);
    }

    static double knn(ComputationGraph g, INDArray xTrain, int[] yTrain, INDArray xTest, int[] yTest) {
        return KnnClassifier.paperDefault().evaluate(features(g, xTrain), yTrain, features(g, xTest), yTest, 10).top1();
    }

    static double dR(ComputationGraph g, INDArray xTest) {
        INDArray z = features(g, xTest).castTo(DataType.DOUBLE);
        return new CodingRate(0.5).rateReduction(z, Memberships.instanceTopK(z, 0.5, 10));
    }

    static INDArray normalized(ImageDataset d) {
        Normalize n = Normalize.cifar10();
        int c = d.channels();
        int hw = d.height() * d.width();
        float[] buf = new float[d.size() * c * hw];
        byte[] img = new byte[d.imageBytes()];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, img, 0);
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) {
                    buf[(i * c + ch) * hw + p] = ((img[ch * hw + p] & 0xff) / 255f - n.mean()[ch]) / n.std()[ch];
                }
            }
        }
        return Nd4j.create(buf, new long[]{d.size(), c, d.height(), d.width()}, 'c');
    }

    static int[] labels(ImageDataset d) {
        int[] y = new int[d.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = d.label(i);
        }
        return y;
    }
}
