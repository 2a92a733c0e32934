package org.umm4j.bench;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.ResNets;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;

import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Whole-run benchmark of umm4j's CPU fast path (oneDNN helpers, {@link Umm4jBackend}): training throughput
 * ({@code fit} on random 32x32 RGB images with 10 random classes, SGD, softmax cross-entropy) of
 * <ol>
 *   <li>a single 3x3 convolution (3 -> 64 channels) + global average pool + softmax layer, and</li>
 *   <li>a CIFAR-stem ResNet-18 of width 0.25 (base widths 16, 32, 64, 128) + softmax layer,</li>
 * </ol>
 * first with the fast path on, then off ({@code Umm4jBackend.setFastPath(false)} before the nets are
 * built; DL4J creates the helpers on a layer's first forward pass). Prints images/s for each and the
 * on/off ratio.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar org.umm4j.bench.FastPathBenchmark [batch [convIters
 * [resnetIters [warmup]]]]}; defaults 32, 20, 6, 2.
 */
public final class FastPathBenchmark {
    private FastPathBenchmark() {
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int convIters = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int resnetIters = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        Umm4jBackend.init();
        DataSet data = randomData(batch, 123);

        double[][] imgPerS = new double[2][2];
        boolean[] modes = {true, false};
        for (int m = 0; m < 2; m++) {
            Umm4jBackend.setFastPath(modes[m]);
            System.out.printf(Locale.ROOT, "fast path %s (oneDNN helpers %s)%n", modes[m] ? "ON" : "OFF",
                    Umm4jBackend.fastPathEnabled() ? "enabled" : "disabled");
            imgPerS[m][0] = run("conv3x3", FastPathBenchmark::convNet, data, warmup, convIters);
            imgPerS[m][1] = run("resnet18-cifar-w0.25", FastPathBenchmark::resnet, data, warmup, resnetIters);
        }
        Umm4jBackend.setFastPath(true);
        System.out.println();
        System.out.printf(Locale.ROOT, "%-22s %10s %10s %8s%n", "net", "on img/s", "off img/s", "on/off");
        String[] names = {"conv3x3", "resnet18-cifar-w0.25"};
        for (int n = 0; n < 2; n++) {
            System.out.printf(Locale.ROOT, "%-22s %10.1f %10.1f %8.2f%n", names[n], imgPerS[0][n], imgPerS[1][n],
                    imgPerS[0][n] / imgPerS[1][n]);
        }
    }

    private static double run(String name, Supplier<ComputationGraph> factory, DataSet data, int warmup, int iters) {
        ComputationGraph net = factory.get();
        for (int i = 0; i < warmup; i++) {
            net.fit(data);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            net.fit(data);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        double ips = iters * data.numExamples() / s;
        String helper = net.getLayer(0).getHelper() == null ? "none" : net.getLayer(0).getHelper().getClass().getSimpleName();
        System.out.printf(Locale.ROOT, "  %-22s %3d iters x %d in %7.2f s = %8.1f img/s (first layer helper: %s, score %.3f)%n",
                name, iters, data.numExamples(), s, ips, helper, net.score());
        return ips;
    }

    private static DataSet randomData(int batch, long seed) {
        Random r = new Random(seed);
        float[] x = new float[batch * 3 * 32 * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++) {
            labels.putScalar(i, r.nextInt(10), 1f);
        }
        return new DataSet(Nd4j.create(x, new long[]{batch, 3, 32, 32}, 'c'), labels);
    }

    private static OutputLayer softmax(int nIn) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(nIn).nOut(10)
                .activation(Activation.SOFTMAX).build();
    }

    private static ComputationGraph convNet() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.01))
                .convolutionMode(ConvolutionMode.Same).graphBuilder()
                .addInputs("input").setInputTypes(InputType.convolutional(32, 32, 3))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(64).activation(Activation.RELU).build(), "input")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer("out", softmax(64), "pool")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    private static ComputationGraph resnet() {
        ResNetConfig cfg = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                .optWidthMultiplier(0.25).optSeed(1).build();
        ComputationGraphConfiguration conf = ResNets.graphBuilder(cfg, new Sgd(0.01))
                .addLayer("out", softmax(cfg.featureSize()), Taps.POOL)
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }
}
