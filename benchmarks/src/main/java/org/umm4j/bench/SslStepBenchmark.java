package org.umm4j.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.OptimizerConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Whole-step benchmark of self-supervised training: images (samples) per second of {@link SslMethod#step} for each
 * method on a CIFAR-stem ResNet-18 (width 0.25 by default, heads at 1/16 of the papers' widths), batch 128 of
 * random 32x32 RGB views (2 views per sample; SwAV adds {@code --local} 16x16 local views), Adam through
 * {@link OptimizerConfig#applyTo}. The step is what the {@code Pretrainer} runs: forward of the stacked views, the
 * objective, backward, updater, auxiliary state (EMA target, queue, prototypes). Augmentation is not included
 * (see {@code AugmentationBenchmark}). Warm-up steps first, then the median of the timed steps.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar org.umm4j.bench.SslStepBenchmark [--methods simclr,byol,...]
 * [--batch 128] [--width 0.25] [--full-width] [--head-scale 0.0625] [--steps 3] [--warmup 1] [--local 2]};
 * {@code --full-width} is width 1 with the papers' heads.
 */
public final class SslStepBenchmark {
    private SslStepBenchmark() {
    }

    public static void main(String[] args) {
        List<String> methods = new ArrayList<>(Methods.NAMES);
        int batch = 128;
        double width = 0.25;
        double headScale = 1.0 / 16;
        int steps = 3;
        int warmup = 1;
        int local = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--methods" -> methods = Arrays.asList(args[++i].split(","));
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--head-scale" -> headScale = Double.parseDouble(args[++i]);
                case "--full-width" -> {
                    width = 1.0;
                    headScale = 1.0;
                }
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--local" -> local = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; see the class Javadoc");
            }
        }
        Umm4jBackend.init();
        System.out.printf(Locale.ROOT, "ResNet-18 CIFAR stem, width %.3f, head scale %.4f, batch %d, %d warm-up + %d "
                + "timed steps, OMP_NUM_THREADS=%s, cores %d%n", width, headScale, batch, warmup, steps,
                System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-10s %6s %12s %12s%n", "method", "views", "median s", "img/s");
        for (String name : methods) {
            ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                    .optWidthMultiplier(width).optSeed(1).build();
            SslMethod m = Methods.create(MethodConfig.of(name, rc, 1000, 1).withHeadScale(headScale)
                    .withQueueSize(4096));
            ComputationGraph g = OptimizerConfig.adam(1e-3).applyTo(m.createOnlineGraph());
            m.attach(g);
            Nd4j.getRandom().setSeed(7);
            List<INDArray> views = new ArrayList<>();
            views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32));
            views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32));
            if (name.equals("swav")) {
                for (int v = 0; v < local; v++) {
                    views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 16, 16));
                }
            }
            double[] t = new double[steps];
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime();
                // epoch 1: SwAV's prototypes are trained (frozen in epoch 0)
                m.step(g, views, i, 1);
                if (i >= warmup) {
                    t[i - warmup] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Arrays.sort(t);
            double median = t[steps / 2];
            System.out.printf(Locale.ROOT, "%-10s %6d %12.2f %12.1f%n", name, views.size(), median, batch / median);
        }
    }
}
