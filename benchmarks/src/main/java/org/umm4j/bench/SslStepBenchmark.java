package org.umm4j.bench;

import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.InferenceGraph;
import org.umm4j.nn.Taps;
import org.umm4j.nn.ExternalGradients;
import org.umm4j.nn.ParamCounts;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.LossAndGradients;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.ObjectiveInput;
import org.umm4j.ssl.Objectives;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.OptimizerConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whole-step benchmark of self-supervised training: images (samples) per second of {@link SslMethod#step} for each
 * method on a CIFAR-stem ResNet-18 (width 0.25 by default, heads at 1/16 of the papers' widths), batch 128 of
 * random 32x32 RGB views (2 views per sample; SwAV adds {@code --local} 16x16 local views), Adam through
 * {@link OptimizerConfig#applyTo}. The step is what the {@code Pretrainer} runs: forward of the stacked views, the
 * objective, backward, updater, auxiliary state (EMA target, queue, prototypes). Augmentation is not included
 * (see {@code AugmentationBenchmark}). Warm-up steps first, then the median of the timed steps.
 *
 * <p>Besides the methods, {@code --methods} accepts two pseudo-methods:
 * <ul>
 *   <li>{@code forward}: forward-only feature extraction as the library's evaluation does it ({@link InferenceGraph}:
 *       BatchNorm folded into the convolutions, built once before the timed loop, as {@code FeatureExtractor} builds
 *       it once per dataset) of the backbone alone to its pooled features, one batch of {@code --batch} images;</li>
 *   <li>{@code forward-unfolded}: the same through the unfolded graph, {@link Backbone#output} (inference mode,
 *       BatchNorm running statistics);</li>
 *   <li>{@code forward-ab}: both in one JVM, alternating folded and unfolded batch by batch for {@code --steps}
 *       rounds after {@code --warmup}; prints both medians and the median of the paired ratios (the figure that this
 *       machine's run-to-run noise leaves intact); the row is the folded one;</li>
 *   <li>{@code simclr-phases}: the SimCLR step rebuilt from public API calls (stack, forward, NT-Xent, backward,
 *       updater) with each phase timed by {@link System#nanoTime}; its total is comparable with the {@code simclr}
 *       row (same work, no hidden extra).</li>
 * </ul>
 * Each row reports the median wall time and the median process CPU time per step (all threads; on a shared
 * machine CPU time is less sensitive to other tenants than wall time, though OpenMP spin-waiting inflates it).
 * For every row the benchmark samples, every 20 ms, the heap in use ({@link MemoryMXBean}), the off-heap bytes
 * JavaCPP tracks ({@link Pointer#totalBytes()}: stays near 0, because libnd4j allocates array buffers itself), the
 * bytes ND4J's memory manager reports allocated ({@code Nd4j.getMemoryManager().allocatedMemory(0)}) and the
 * process's resident set ({@link Pointer#physicalBytes()}, the figure to compare with PyTorch's peak RSS), and
 * reports their peaks; run one row per JVM for clean peaks (the comparison
 * script {@code benchmarks/torch/compare.sh} does). Each row also prints a machine-readable {@code RESULT} line.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar org.umm4j.bench.SslStepBenchmark [--methods simclr,byol,forward,...]
 * [--batch 128] [--width 0.25 | --base-width 16] [--full-width] [--head-scale 0.0625] [--steps 3] [--warmup 1]
 * [--local 2] [--optimizer adam|sgd] [--lr 1e-3] [--gc]}; {@code --gc} calls {@link System#gc()} after every step
 * (inside the timed interval), which releases the step's off-heap arrays at once. {@code --full-width} is width 1 with the papers' heads;
 * {@code --base-width C} sets the stem/stage-1 channel count C (width multiplier C/64) and, unless
 * {@code --head-scale} is given, heads scaled by the same C/64 (the configuration {@code torch/ssl_step_torch.py}
 * mirrors).
 */
public final class SslStepBenchmark {
    private SslStepBenchmark() {
    }

    public static void main(String[] args) {
        List<String> methods = new ArrayList<>(Methods.NAMES);
        int batch = 128;
        double width = 0.25;
        Double headScale = null;
        int steps = 3;
        int warmup = 1;
        int local = 2;
        String optimizer = "adam";
        boolean gc = false;
        double lr = 1e-3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--methods" -> methods = Arrays.asList(args[++i].split(","));
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--base-width" -> width = Integer.parseInt(args[++i]) / 64.0;
                case "--head-scale" -> headScale = Double.parseDouble(args[++i]);
                case "--full-width" -> {
                    width = 1.0;
                    headScale = 1.0;
                }
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--local" -> local = Integer.parseInt(args[++i]);
                case "--optimizer" -> optimizer = args[++i];
                case "--lr" -> lr = Double.parseDouble(args[++i]);
                case "--gc" -> gc = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; see the class Javadoc");
            }
        }
        if (headScale == null) {
            // old default (1/16) unless a base width was chosen: then heads shrink with the backbone
            headScale = Arrays.asList(args).contains("--base-width") ? width : 1.0 / 16;
        }
        OptimizerConfig opt = switch (optimizer) {
            case "adam" -> OptimizerConfig.adam(lr);
            case "sgd" -> OptimizerConfig.sgd(lr, 0.9);
            default -> throw new IllegalArgumentException("--optimizer must be adam or sgd, got " + optimizer);
        };
        Umm4jBackend.init();
        System.out.printf(Locale.ROOT, "ResNet-18 CIFAR stem, width %.3f (base %d channels), head scale %.4f, batch %d, "
                + "%d warm-up + %d timed steps, %s lr %g, OMP_NUM_THREADS=%s, cores %d, oneDNN helpers %s%n", width,
                Math.round(64 * width), headScale, batch, warmup, steps, optimizer, lr, System.getenv("OMP_NUM_THREADS"),
                Runtime.getRuntime().availableProcessors(), Umm4jBackend.fastPathEnabled() ? "on" : "off");
        System.out.printf(Locale.ROOT, "%-14s %6s %10s %10s %8s %9s %9s %9s %9s %12s%n", "method", "views",
                "median s", "img/s", "cpu s", "heap MB", "jcpp MB", "nd4j MB", "rss MB", "params");
        for (String name : methods) {
            ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                    .optWidthMultiplier(width).optSeed(1).build();
            MemorySampler mem = new MemorySampler();
            mem.start();
            Row row;
            try {
                row = switch (name) {
                    case "forward" -> forward(rc, batch, warmup, steps, true);
                    case "forward-unfolded" -> forward(rc, batch, warmup, steps, false);
                    case "forward-ab" -> forwardAb(rc, batch, warmup, steps);
                    case "simclr-phases" -> simclrPhases(rc, headScale, opt, batch, warmup, steps);
                    default -> sslStep(name, rc, headScale, opt, batch, warmup, steps, local, gc);
                };
            } finally {
                mem.stop();
            }
            System.out.printf(Locale.ROOT, "%-14s %6d %10.3f %10.1f %8.2f %9.0f %9.0f %9.0f %9.0f %12d  %s%n",
                    name, row.views, row.median, batch / row.median, row.cpuMedian, mem.heapPeak / 1e6, mem.offHeapPeak / 1e6,
                    mem.nd4jPeak / 1e6, mem.rssPeak / 1e6, row.params, row.heads);
            if (!row.phases.isEmpty()) {
                double sum = row.phases.values().stream().mapToDouble(Double::doubleValue).sum();
                row.phases.forEach((k, v) -> System.out.printf(Locale.ROOT, "    phase %-22s %8.3f s %5.1f %%%n", k, v,
                        100 * v / sum));
            }
            System.out.printf(Locale.ROOT, "RESULT impl=umm4j method=%s base_width=%d head_scale=%s batch=%d "
                    + "median_s=%.4f img_s=%.2f cpu_s=%.3f heap_peak_mb=%.0f javacpp_peak_mb=%.0f nd4j_peak_mb=%.0f rss_peak_mb=%.0f "
                    + "params=%d%n", name, Math.round(64 * width), headScale, batch, row.median, batch / row.median, row.cpuMedian,
                    mem.heapPeak / 1e6, mem.offHeapPeak / 1e6, mem.nd4jPeak / 1e6, mem.rssPeak / 1e6, row.params);
        }
    }

    /** One benchmark row: median seconds per step, parameter count and head shapes, optional phase medians. */
    private record Row(int views, double median, double cpuMedian, long params, String heads,
                       Map<String, Double> phases) {
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** CPU seconds of the whole process (all threads, OpenMP workers included) */
    private static double cpu() {
        return OS.getProcessCpuTime() / 1e9;
    }

    private static Row sslStep(String name, ResNetConfig rc, double headScale, OptimizerConfig opt, int batch, int warmup,
                               int steps, int local, boolean gc) {
        SslMethod m = Methods.create(MethodConfig.of(name, rc, 1000, 1).withHeadScale(headScale).withQueueSize(4096));
        ComputationGraph g = opt.applyTo(m.createOnlineGraph());
        m.attach(g);
        List<INDArray> views = randomViews(batch, name.equals("swav") ? local : 0);
        double[] t = new double[steps];
        double[] c = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            double c0 = cpu();
            // epoch 1: SwAV's prototypes are trained (frozen in epoch 0)
            m.step(g, views, i, 1);
            if (gc) {
                // timed: frees the step's off-heap buffers now instead of at the next (rare) young GC
                System.gc();
            }
            if (i >= warmup) {
                t[i - warmup] = (System.nanoTime() - t0) / 1e9;
                c[i - warmup] = cpu() - c0;
            }
        }
        return new Row(views.size(), median(t), median(c), g.numParams(), headShapes(g), Map.of());
    }

    /** Folded and unfolded forwards alternating on one batch: medians and the median of paired ratios. */
    private static Row forwardAb(ResNetConfig rc, int batch, int warmup, int steps) {
        Backbone b = Backbone.create(rc);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32);
        InferenceGraph ig = InferenceGraph.of(b.graph(), Taps.POOL);
        double[] folded = new double[steps];
        double[] plain = new double[steps];
        double[] ratio = new double[steps];
        double[] cpuFolded = new double[steps];
        double maxDiff = 0;
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            double c0 = cpu();
            INDArray f = ig.activations(x, Taps.POOL).get(Taps.POOL);
            long t1 = System.nanoTime();
            double c1 = cpu();
            INDArray u = b.output(x);
            long t2 = System.nanoTime();
            maxDiff = Math.max(maxDiff, f.sub(u).amaxNumber().doubleValue());
            if (i >= warmup) {
                int k = i - warmup;
                folded[k] = (t1 - t0) / 1e9;
                plain[k] = (t2 - t1) / 1e9;
                ratio[k] = plain[k] / folded[k];
                cpuFolded[k] = c1 - c0;
            }
        }
        System.out.printf(Locale.ROOT, "forward-ab: %d rounds after %d warm-up: folded median %.4f s, unfolded median %.4f s,"
                + " median paired unfolded/folded %.3fx, max |folded - unfolded| %.2e%n", steps, warmup, median(folded),
                median(plain), median(ratio), maxDiff);
        return new Row(1, median(folded), median(cpuFolded), b.graph().numParams(), "features " + rc.featureSize()
                + " (folded; see the forward-ab line)", Map.of());
    }

    /** Inference-mode forward of the backbone alone (no heads) to its pooled features, folded or not. */
    private static Row forward(ResNetConfig rc, int batch, int warmup, int steps, boolean folded) {
        Backbone b = Backbone.create(rc);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32);
        long f0 = System.nanoTime();
        InferenceGraph ig = folded ? InferenceGraph.of(b.graph(), Taps.POOL) : null;
        double foldSeconds = (System.nanoTime() - f0) / 1e9;
        double[] t = new double[steps];
        double[] c = new double[steps];
        double checksum = 0;
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            double c0 = cpu();
            INDArray f = folded ? ig.activations(x, Taps.POOL).get(Taps.POOL) : b.output(x);
            checksum += f.sumNumber().doubleValue();
            if (i >= warmup) {
                t[i - warmup] = (System.nanoTime() - t0) / 1e9;
                c[i - warmup] = cpu() - c0;
            }
        }
        if (!Double.isFinite(checksum)) {
            throw new IllegalStateException("non-finite features");
        }
        String what = "features " + rc.featureSize() + (folded ? String.format(Locale.ROOT,
                " (folded %d BN, %d ReLU in %.3f s, once)", ig.foldedBatchNorms(), ig.fusedReLUs(), foldSeconds) : "");
        return new Row(1, median(t), median(c), b.graph().numParams(), what, Map.of());
    }

    /**
     * The SimCLR step of {@code ComposedMethod} rebuilt from public calls, each phase timed: stacking the views,
     * forward in training mode, the NT-Xent loss and dL/dz, backward to dL/dtheta, the updater (Adam + subtract).
     */
    private static Row simclrPhases(ResNetConfig rc, double headScale, OptimizerConfig opt, int batch, int warmup,
                                    int steps) {
        SslMethod m = Methods.create(MethodConfig.of("simclr", rc, 1000, 1).withHeadScale(headScale));
        ComputationGraph g = opt.applyTo(m.createOnlineGraph());
        m.attach(g);
        var objective = Objectives.create("simclr");
        List<INDArray> views = randomViews(batch, 0);
        String[] names = {"stack views", "forward (train)", "loss + dL/dz", "backward", "updater"};
        double[][] t = new double[names.length][steps];
        double[] total = new double[steps];
        String outName = g.getConfiguration().getNetworkOutputs().get(0);
        for (int i = 0; i < warmup + steps; i++) {
            long[] ts = new long[names.length + 1];
            ts[0] = System.nanoTime();
            g.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
            INDArray x = Nd4j.concat(0, views.get(0), views.get(1));
            ts[1] = System.nanoTime();
            INDArray out = g.feedForward(new INDArray[]{x}, true, false).get(outName);
            ts[2] = System.nanoTime();
            INDArray o1 = out.get(NDArrayIndex.interval(0, batch), NDArrayIndex.all());
            INDArray o2 = out.get(NDArrayIndex.interval(batch, 2 * batch), NDArrayIndex.all());
            LossAndGradients lg = objective.compute(ObjectiveInput.of(o1, o2));
            INDArray eps = Nd4j.concat(0, lg.gradient(0), lg.gradient(1)).castTo(out.dataType());
            ts[3] = System.nanoTime();
            Gradient grad = g.backpropGradient(eps);
            ts[4] = System.nanoTime();
            ExternalGradients.applyUpdater(g, grad, i, 1);
            ts[5] = System.nanoTime();
            if (i >= warmup) {
                for (int p = 0; p < names.length; p++) {
                    t[p][i - warmup] = (ts[p + 1] - ts[p]) / 1e9;
                }
                total[i - warmup] = (ts[names.length] - ts[0]) / 1e9;
            }
        }
        Map<String, Double> phases = new java.util.LinkedHashMap<>();
        for (int p = 0; p < names.length; p++) {
            phases.put(names[p], median(t[p]));
        }
        return new Row(2, median(total), Double.NaN, g.numParams(), headShapes(g), phases);
    }

    private static List<INDArray> randomViews(int batch, int local) {
        Nd4j.getRandom().setSeed(7);
        List<INDArray> views = new ArrayList<>();
        views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32));
        views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 32, 32));
        for (int v = 0; v < local; v++) {
            views.add(Nd4j.randn(DataType.FLOAT, batch, 3, 16, 16));
        }
        return views;
    }

    /** e.g. {@code projector 128-512-32} for every head in the graph, read from its dense weight shapes. */
    static String headShapes(ComputationGraph g) {
        Map<String, List<long[]>> heads = new TreeMap<>();
        for (Map.Entry<String, INDArray> e : g.paramTable().entrySet()) {
            String k = e.getKey();
            int fc = k.indexOf("_fc");
            if (fc < 0 || !k.endsWith("_W") || e.getValue().rank() != 2) {
                continue;
            }
            heads.computeIfAbsent(k.substring(0, fc), h -> new ArrayList<>()).add(e.getValue().shape());
        }
        // the output layer of a head is named after the head itself
        for (String h : heads.keySet()) {
            INDArray w = g.paramTable().get(h + "_W");
            if (w != null) {
                heads.get(h).add(w.shape());
            }
        }
        StringBuilder sb = new StringBuilder();
        heads.forEach((h, shapes) -> {
            sb.append(sb.length() == 0 ? "" : ", ").append(h).append(' ').append(shapes.get(0)[0]);
            for (long[] s : shapes) {
                sb.append('-').append(s[1]);
            }
        });
        return sb + " (trainable " + ParamCounts.trainable(g) + ")";
    }

    private static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Peaks of heap in use, JavaCPP's off-heap total and the process RSS, sampled every 20 ms on a daemon thread. */
    static final class MemorySampler {
        private final MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
        private final AtomicLong heap = new AtomicLong();
        private final AtomicLong offHeap = new AtomicLong();
        private final AtomicLong rss = new AtomicLong();
        private final AtomicLong nd4j = new AtomicLong();
        private volatile boolean running;
        private Thread thread;
        long heapPeak;
        long offHeapPeak;
        long rssPeak;
        long nd4jPeak;

        void start() {
            System.gc();
            running = true;
            sample();
            thread = new Thread(() -> {
                while (running) {
                    sample();
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "memory-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private void sample() {
            heap.accumulateAndGet(bean.getHeapMemoryUsage().getUsed(), Math::max);
            offHeap.accumulateAndGet(Pointer.totalBytes(), Math::max);
            rss.accumulateAndGet(Pointer.physicalBytes(), Math::max);
            nd4j.accumulateAndGet(Nd4j.getMemoryManager().allocatedMemory(0), Math::max);
        }

        void stop() {
            running = false;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sample();
            heapPeak = heap.get();
            offHeapPeak = offHeap.get();
            rssPeak = rss.get();
            nd4jPeak = nd4j.get();
        }
    }
}
