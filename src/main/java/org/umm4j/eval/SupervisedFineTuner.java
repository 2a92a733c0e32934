package org.umm4j.eval;

import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.DatasetChecksum;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.HorizontalFlip;
import org.umm4j.data.augment.MultiViewBatch;
import org.umm4j.data.augment.MultiViewBatchIterator;
import org.umm4j.data.augment.Compose;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.RandomResizedCrop;
import org.umm4j.data.augment.Recipe;
import org.umm4j.io.AtomicFiles;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Taps;
import org.umm4j.train.ProgressBar;
import org.umm4j.train.RunDirectory;
import org.umm4j.train.StepContext;
import org.umm4j.train.StepResult;
import org.umm4j.train.TrainingConfig;
import org.umm4j.train.TrainingLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Supervised fine-tuning of a pretrained backbone on a labelled subset: the semi-supervised evaluation of SSL
 * methods (SimCLR, arXiv 2002.05709, section 7; the UMM paper, arXiv 2410.00772, Table 4: 1 % and 10 % of the
 * CIFAR labels).
 *
 * <pre>
 *   x [B, C, H, W] -&gt; backbone (pretrained weights) -&gt; pool [B, D] -&gt; linear classifier -&gt; softmax [B, K]
 *   loss = cross-entropy(softmax, one-hot labels), Adam(lr), constant rate
 * </pre>
 * The backbone is a fresh {@link Backbone} of the given {@link ResNetConfig} without heads, whose parameters
 * (BatchNorm statistics included) are copied by name from the pretrained graph; the projection/prediction heads
 * are dropped, as in the papers. Training images get one augmented view: a random resized crop of scale
 * {@code [0.5, 1]} and a horizontal flip, then the evaluation normalisation
 * ({@link FeatureExtractor#normalizeFor}). With {@code freezeBackbone} only the classifier trains (a linear probe
 * on augmented images); otherwise every layer does. After each epoch the test split is classified (inference
 * mode, no augmentation) and {@code test_top1}, {@code test_top5} are added to {@code metrics.csv}; the run
 * directory holds checkpoints (exact resume, as every umm4j run) and {@code finetune.json} with the final
 * accuracies, written atomically.
 */
public final class SupervisedFineTuner {
    private static final Logger LOG = LoggerFactory.getLogger(SupervisedFineTuner.class);
    /** Name of the classifier layer (the graph's output). */
    public static final String CLASSIFIER = "classifier";
    /** Result file in the run directory. */
    public static final String RESULT = "finetune.json";
    /** Lower bound of the crop scale of the training view. */
    public static final double CROP_SCALE_MIN = 0.5;

    private final ComputationGraph pretrained;
    private final ResNetConfig config;
    private final ImageDataset train;
    private final ImageDataset test;
    private final Path out;
    private final int batchSize;
    private final double lr;
    private final boolean freezeBackbone;
    private final TrainingConfig training;
    private final Map<String, Object> extraManifest;
    private final ProgressBar progress;
    private final Normalize normalize;
    private final Recipe recipe;
    private MultiViewBatchIterator iterator;
    private int iteratorEpoch = -1;

    /** Final test accuracy of a run. */
    public record Result(double top1, double top5, int epochs, int labelled) {
    }

    private SupervisedFineTuner(Builder b) {
        this.pretrained = b.pretrained;
        this.config = b.config;
        this.train = b.train;
        this.test = b.test;
        this.out = b.out;
        this.batchSize = b.batchSize;
        this.lr = b.lr;
        this.freezeBackbone = b.freezeBackbone;
        this.extraManifest = b.extraManifest;
        this.progress = b.progress;
        int steps = train.size() / batchSize;
        if (steps == 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " exceeds the " + train.size()
                    + " labelled images of " + train.name() + ": use a smaller --batch-size or a larger label fraction");
        }
        this.training = new TrainingConfig(b.epochs, steps, b.seed, 1, 2, List.of("test_top1", "test_top5"));
        this.normalize = FeatureExtractor.normalizeFor(train);
        int size = train.height();
        Compose view = new Compose(List.of(RandomResizedCrop.square(size, CROP_SCALE_MIN, 1.0), new HorizontalFlip(0.5),
                normalize));
        this.recipe = new Recipe("finetune-crop-flip", List.of(view));
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return steps per epoch (floor(labelled images / batch size)) */
    public int stepsPerEpoch() {
        return training.stepsPerEpoch();
    }

    /**
     * The classifier graph: a fresh backbone of {@code config} without heads, parameters copied by name from
     * {@code pretrained}, and a softmax layer of {@code numClasses} on the pooled features.
     */
    public static ComputationGraph classifier(ComputationGraph pretrained, ResNetConfig config, int numClasses,
            double lr, boolean freezeBackbone, long seed) {
        Backbone b = Backbone.create(config);
        ComputationGraph g = b.graph();
        Map<String, INDArray> src = pretrained.paramTable();
        int copied = 0;
        for (Map.Entry<String, INDArray> e : g.paramTable().entrySet()) {
            INDArray s = src.get(e.getKey());
            if (s == null || !java.util.Arrays.equals(s.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("the pretrained graph has no parameter " + e.getKey() + " of shape "
                        + java.util.Arrays.toString(e.getValue().shape()) + ": was it pretrained with this backbone "
                        + "configuration (depth, width, stem)?");
            }
            e.getValue().assign(s);
            copied++;
        }
        LOG.info("fine-tuning classifier: {} backbone parameter arrays copied, {} classes, backbone {}", copied,
                numClasses, freezeBackbone ? "frozen" : "trained");
        TransferLearning.GraphBuilder tb = new TransferLearning.GraphBuilder(g)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(lr)).seed(seed).build())
                .addLayer(CLASSIFIER, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(b.outputSize())
                        .nOut(numClasses).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), Taps.POOL)
                .setOutputs(CLASSIFIER);
        if (freezeBackbone) {
            tb.setFeatureExtractor(Taps.POOL);
        }
        return tb.build();
    }

    /** Trains from scratch, or resumes from the latest checkpoint of {@code out} when {@code resume}. */
    public Result run(boolean resume) {
        Umm4jBackend.init();
        RunDirectory run;
        if (resume) {
            run = RunDirectory.open(out);
        } else {
            Map<String, Object> cfg = new LinkedHashMap<>(extraManifest);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("labelled", train.size());
            f.put("test", test.size());
            f.put("lr", lr);
            f.put("freezeBackbone", freezeBackbone);
            f.put("cropScaleMin", CROP_SCALE_MIN);
            cfg.put("finetune", f);
            cfg.put("batchSize", batchSize);
            cfg.put("recipe", recipe.name());
            cfg.put("training", training.toMap());
            run = RunDirectory.create(out, cfg, training.seed(), train.name(), DatasetChecksum.sha256(train));
        }
        try {
            TrainingLoop.Builder lb = TrainingLoop.builder().setRun(run).setConfig(training)
                    .setGraphFactory(() -> classifier(pretrained, config, train.numClasses(), lr, freezeBackbone,
                            training.seed()))
                    .setStepFunction(this::step);
            if (progress != null) {
                lb.optProgress(progress);
            }
            TrainingLoop.Result r = resume ? lb.build().resume() : lb.build().run();
            Accuracy acc = evaluate(r.graph(), test, normalize);
            Result res = new Result(acc.top1(), acc.top5(), r.epochsCompleted(), train.size());
            AtomicFiles.writeString(out.resolve(RESULT), String.format(Locale.ROOT,
                    "{%n  \"top1\" : %.6f,%n  \"top5\" : %.6f,%n  \"epochs\" : %d,%n  \"labelled\" : %d,%n"
                            + "  \"test\" : %d,%n  \"freezeBackbone\" : %b%n}%n",
                    res.top1(), res.top5(), res.epochs(), res.labelled(), test.size(), freezeBackbone));
            return res;
        } finally {
            if (iterator != null) {
                iterator.close();
            }
        }
    }

    private StepResult step(ComputationGraph graph, StepContext ctx) {
        if (iteratorEpoch != ctx.epoch()) {
            if (iterator != null) {
                iterator.close();
            }
            iterator = MultiViewBatchIterator.builder().setDataset(train).setRecipe(recipe).setBatchSize(batchSize)
                    .setSeed(training.seed()).optEpoch(ctx.epoch()).optShuffle(true).optDropLast(true).build();
            iteratorEpoch = ctx.epoch();
        }
        MultiViewBatch batch = iterator.next();
        INDArray x = batch.views().get(0);
        int[] labels = batch.labels();
        INDArray y = Nd4j.zeros(x.dataType(), labels.length, train.numClasses());
        for (int i = 0; i < labels.length; i++) {
            y.putScalar(i, labels[i], 1.0);
        }
        graph.fit(new INDArray[]{x}, new INDArray[]{y});
        StepResult r = new StepResult(graph.score(), labels.length, Map.of());
        if (ctx.step() == training.stepsPerEpoch() - 1) {
            Accuracy acc = evaluate(graph, test, normalize);
            LOG.info("epoch {}: test top-1 {}, top-5 {}", ctx.epoch(), acc.top1(), acc.top5());
            r = r.withExtra("test_top1", acc.top1()).withExtra("test_top5", acc.top5());
        }
        return r;
    }

    /** Top-1/top-5 of the classifier graph on {@code data} (inference mode, normalised, no augmentation). */
    public static Accuracy evaluate(ComputationGraph classifier, ImageDataset data, Normalize normalize) {
        INDArray p = new FeatureExtractor(classifier, normalize, FeatureExtractor.DEFAULT_BATCH)
                .extract(data, CLASSIFIER).get(CLASSIFIER);
        double[][] scores = p.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
        int[] labels = new int[data.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.label(i);
        }
        return Accuracy.fromScores(scores, labels);
    }

    /** Builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private ComputationGraph pretrained;
        private ResNetConfig config;
        private ImageDataset train;
        private ImageDataset test;
        private Path out;
        private int epochs = -1;
        private int batchSize = -1;
        private double lr = 1e-3;
        private boolean freezeBackbone;
        private long seed = 1;
        private Map<String, Object> extraManifest = Map.of();
        private ProgressBar progress;

        private Builder() {
        }

        /** The pretrained online graph (a checkpoint's; heads are dropped). */
        public Builder setPretrained(ComputationGraph g) {
            this.pretrained = Objects.requireNonNull(g, "pretrained");
            return this;
        }

        /** The backbone configuration the graph was pretrained with. */
        public Builder setConfig(ResNetConfig c) {
            this.config = Objects.requireNonNull(c, "config");
            return this;
        }

        /** The labelled training images (e.g. {@code Subsets.classBalancedFraction(train, 0.01, seed)}). */
        public Builder setTrain(ImageDataset d) {
            this.train = Objects.requireNonNull(d, "train");
            return this;
        }

        /** The test images scored after every epoch. */
        public Builder setTest(ImageDataset d) {
            this.test = Objects.requireNonNull(d, "test");
            return this;
        }

        /** The run directory to write. */
        public Builder setOut(Path p) {
            this.out = Objects.requireNonNull(p, "out");
            return this;
        }

        /** Epochs over the labelled images, &gt;= 1. */
        public Builder setEpochs(int e) {
            if (e < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + e);
            }
            this.epochs = e;
            return this;
        }

        /** Batch size, &gt;= 1 (the last incomplete batch of an epoch is dropped). */
        public Builder setBatchSize(int b) {
            if (b < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + b);
            }
            this.batchSize = b;
            return this;
        }

        /** Adam learning rate (default 1e-3). */
        public Builder optLr(double v) {
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException("lr must be positive, got " + v);
            }
            this.lr = v;
            return this;
        }

        /** Train only the classifier (default false: every layer trains). */
        public Builder optFreezeBackbone(boolean f) {
            this.freezeBackbone = f;
            return this;
        }

        /** Seed of the shuffling, the augmentation and the classifier's initialisation (default 1). */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /** Extra manifest entries (e.g. the dataset and backbone options). */
        public Builder optManifest(Map<String, Object> m) {
            this.extraManifest = Map.copyOf(m);
            return this;
        }

        /** A progress bar (default none). */
        public Builder optProgress(ProgressBar p) {
            this.progress = p;
            return this;
        }

        /** @throws IllegalStateException naming the first missing setting */
        public SupervisedFineTuner build() {
            if (pretrained == null) {
                throw new IllegalStateException("call setPretrained(...)");
            }
            if (config == null) {
                throw new IllegalStateException("call setConfig(...)");
            }
            if (train == null) {
                throw new IllegalStateException("call setTrain(...)");
            }
            if (test == null) {
                throw new IllegalStateException("call setTest(...)");
            }
            if (out == null) {
                throw new IllegalStateException("call setOut(...)");
            }
            if (epochs < 1) {
                throw new IllegalStateException("call setEpochs(...)");
            }
            if (batchSize < 1) {
                throw new IllegalStateException("call setBatchSize(...)");
            }
            if (train.numClasses() != test.numClasses()) {
                throw new IllegalArgumentException("train has " + train.numClasses() + " classes but test has "
                        + test.numClasses());
            }
            return new SupervisedFineTuner(this);
        }
    }
}
