package org.umm4j.bench;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.backend.Umm4jBackend;

import java.util.Locale;
import java.util.Set;

/**
 * Per-layer cost of umm4j's BatchNorm and convolution helpers against DL4J's oneDNN helpers, measured in one run:
 * BatchNorm training forward and backward on [N, C, H, W] for the four stage shapes of a width-16 CIFAR ResNet-18,
 * and the backward pass of a 3x3 stride-1 convolution (C -> C, and the 3 -> C stem with and without its input
 * gradient). Each helper is taken from a one-layer graph after {@code Umm4jBackend.useFastBatchNorm} /
 * {@code useFastConvolution}, DL4J's is created directly; calls alternate between the two, outputs live in a
 * workspace (as in training), and the minimum over the timed calls is printed with the ratio DL4J / umm4j.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar org.umm4j.bench.LayerKernelBenchmark [batch [iters [warmup]]]};
 * defaults 256, 10, 3.
 */
public final class LayerKernelBenchmark {
    private static final WorkspaceConfiguration WS = WorkspaceConfiguration.builder().initialSize(0)
            .policyLearning(LearningPolicy.FIRST_LOOP).policyAllocation(AllocationPolicy.OVERALLOCATE).build();

    private LayerKernelBenchmark() {
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int iters = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Umm4jBackend.init();
        System.out.printf(Locale.ROOT, "batch %d, %d timed calls after %d, OMP_NUM_THREADS=%s; ms per call (min)%n",
                batch, iters, warmup, System.getenv("OMP_NUM_THREADS"));
        System.out.printf(Locale.ROOT, "%-42s %8s %8s %8s%n", "what", "DL4J", "umm4j", "ratio");
        long[][] bnShapes = {{batch, 16, 32, 32}, {batch, 32, 16, 16}, {batch, 64, 8, 8}, {batch, 128, 4, 4}};
        for (long[] s : bnShapes) {
            batchNorm(s, iters, warmup);
        }
        convolution(batch, 16, 16, 32, true, iters, warmup);
        convolution(batch, 3, 16, 32, true, iters, warmup);
        convolution(batch, 3, 16, 32, false, iters, warmup);
        convolution(batch, 3, 64, 32, false, iters, warmup);
    }

    private static LayerWorkspaceMgr workspaces() {
        return LayerWorkspaceMgr.builder().with(ArrayType.ACTIVATIONS, "LKB", WS)
                .with(ArrayType.ACTIVATION_GRAD, "LKB", WS).with(ArrayType.BP_WORKING_MEM, "LKB", WS)
                .with(ArrayType.FF_WORKING_MEM, "LKB", WS).build();
    }

    private interface Call {
        void run(LayerWorkspaceMgr mgr);
    }

    /** ms per call (min over the timed calls) of a and b, alternating, each inside an open workspace. */
    private static double[] time(Call a, Call b, int iters, int warmup) {
        LayerWorkspaceMgr mgr = workspaces();
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        Call[] calls = {a, b};
        for (int i = 0; i < warmup + iters; i++) {
            for (int k = 0; k < 2; k++) {
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "LKB")) {
                    long t0 = System.nanoTime();
                    calls[k].run(mgr);
                    long t1 = System.nanoTime();
                    if (i >= warmup) {
                        best[k] = Math.min(best[k], (t1 - t0) / 1e6);
                    }
                }
            }
        }
        return best;
    }

    private static void print(String what, double[] t) {
        System.out.printf(Locale.ROOT, "%-42s %8.1f %8.1f %7.2fx%n", what, t[0], t[1], t[0] / t[1]);
    }

    private static void batchNorm(long[] s, int iters, int warmup) {
        int c = (int) s[1];
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(s[2], s[3], c))
                .addLayer("bn", new BatchNormalization.Builder().nOut(c).build(), "in").setOutputs("bn").build());
        g.init();
        g.output(false, Nd4j.rand(DataType.FLOAT, 2, c, s[2], s[3])); // DL4J creates the helper on first use
        Umm4jBackend.useFastBatchNorm(g);
        BatchNormalizationHelper umm4j = (BatchNormalizationHelper) g.getLayer("bn").getHelper();
        BatchNormalizationHelper dl4j = new MKLDNNBatchNormHelper(DataType.FLOAT);
        INDArray x = Nd4j.randn(DataType.FLOAT, s).addi(0.5);
        INDArray dy = Nd4j.randn(DataType.FLOAT, s);
        INDArray gamma = Nd4j.ones(DataType.FLOAT, 1, c);
        INDArray beta = Nd4j.zeros(DataType.FLOAT, 1, c);
        INDArray[] stats = {Nd4j.zeros(DataType.FLOAT, 1, c), Nd4j.ones(DataType.FLOAT, 1, c),
                Nd4j.zeros(DataType.FLOAT, 1, c), Nd4j.ones(DataType.FLOAT, 1, c)};
        INDArray dg = Nd4j.zeros(DataType.FLOAT, 1, c);
        INDArray db = Nd4j.zeros(DataType.FLOAT, 1, c);
        String shape = s[0] + "x" + s[1] + "x" + s[2] + "x" + s[3];
        print("BatchNorm forward (train) " + shape, time(
                m -> dl4j.preOutput(x, true, s, gamma, beta, stats[0], stats[1], 0.9, 1e-5, CNN2DFormat.NCHW, m),
                m -> umm4j.preOutput(x, true, s, gamma, beta, stats[2], stats[3], 0.9, 1e-5, CNN2DFormat.NCHW, m),
                iters, warmup));
        print("BatchNorm backward " + shape, time(
                m -> dl4j.backpropGradient(x, dy, s, gamma, beta, dg, db, 1e-5, CNN2DFormat.NCHW, m),
                m -> umm4j.backpropGradient(x, dy, s, gamma, beta, dg, db, 1e-5, CNN2DFormat.NCHW, m),
                iters, warmup));
    }

    private static void convolution(int n, int in, int out, int hw, boolean inputGradient, int iters, int warmup) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(hw, hw, in))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(out).padding(1, 1).hasBias(false)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build(), "in")
                .setOutputs("conv").build());
        g.init();
        g.output(false, Nd4j.rand(DataType.FLOAT, 2, in, hw, hw));
        int replaced = Umm4jBackend.useFastConvolution(g, inputGradient ? Set.of() : Set.of("conv"));
        ConvolutionHelper umm4j = (ConvolutionHelper) g.getLayer("conv").getHelper();
        ConvolutionHelper dl4j = new MKLDNNConvHelper(DataType.FLOAT);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, in, hw, hw);
        INDArray w = Nd4j.randn(DataType.FLOAT, out, in, 3, 3).muli(0.1);
        INDArray dy = Nd4j.randn(DataType.FLOAT, n, out, hw, hw);
        INDArray b = Nd4j.zeros(DataType.FLOAT, 1, out);
        INDArray dw = Nd4j.zeros(DataType.FLOAT, out, in, 3, 3);
        INDArray dbias = Nd4j.zeros(DataType.FLOAT, 1, out);
        int[] k = {3, 3};
        int[] one = {1, 1};
        String what = String.format(Locale.ROOT, "conv backward %d->%d %dx%d%s%s", in, out, hw, hw,
                inputGradient ? "" : " (dW only)", replaced == 0 ? " [DL4J's]" : "");
        print(what, time(
                m -> dl4j.backpropGradient(x, w, b, dy, k, one, one, dbias, dw, new ActivationIdentity(), null, null,
                        null, ConvolutionMode.Truncate, one, CNN2DFormat.NCHW, m),
                m -> umm4j.backpropGradient(x, w, b, dy, k, one, one, dbias, dw, new ActivationIdentity(), null, null,
                        null, ConvolutionMode.Truncate, one, CNN2DFormat.NCHW, m),
                iters, warmup));
    }
}
