package org.umm4j.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.SplitBackbone;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.umm.CpaSketch;
import org.umm4j.umm.Hypergradient;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmProblem;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Wall-clock cost of one UMM step relative to one plain SSL step of f_l on the same batch (DESIGN.md section 4's
 * cost model). Narrow CIFAR ResNet-18 (width {@code w}, default 0.25), SimCLR head at scale 1/16, split at stage2,
 * random 32x32 inputs, batch B (default 64) per view. Early features are computed once (outside the timed step, as
 * in the fine-tuner, where they cost one f_e inference per batch). Timed:
 * <ul>
 *   <li>SSL: one forward+backward of f_l on the 2B views (the plain SSL gradient of f_l);</li>
 *   <li>inner / outer: one oracle call each (L_in with the sketch, L_out with dR);</li>
 *   <li>UMM steps: setBatch + hypergradient + commit, for unrolled with the sketch on S = 32 samples (forward and
 *       central Hessian-vector differences), unrolled with the sketch on the whole view and central differences
 *       (S = B, the naive layout) and neumann (S = 32, K = 5, forward and central).</li>
 * </ul>
 * Args: {@code [batch [width [iters [warmup [membershipTopK]]]]]} (top-k 0 = dense instance membership). Run with OMP_NUM_THREADS=1 on a shared machine.
 */
public final class UmmStepBenchmark {
    private UmmStepBenchmark() {
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        double width = args.length > 1 ? Double.parseDouble(args[1]) : 0.25;
        int iters = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        int topK = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        Umm4jBackend.init();
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                .optWidthMultiplier(width).optSeed(1).build();
        SslMethod m = Methods.create(MethodConfig.of("simclr", rc, 100, 1).withHeadScale(1.0 / 16));
        Backbone b = m.createOnline();
        SplitBackbone split = b.split(Taps.EARLY_DEFAULT);
        INDArray x1 = Nd4j.rand(DataType.FLOAT, batch, 3, 32, 32);
        INDArray x2 = Nd4j.rand(DataType.FLOAT, batch, 3, 32, 32);
        long t0 = System.nanoTime();
        INDArray e1 = split.earlyFeatures(x1);
        INDArray e2 = split.earlyFeatures(x2);
        double earlyMs = (System.nanoTime() - t0) / 1e6;
        int k = CpaSketch.defaults().k();
        System.out.printf(Locale.ROOT, "UMM step benchmark: ResNet-18 width %.4g, batch %d per view, tap %s, k = %d, "
                + "early tap %s, f_e inference of both views %.0f ms (once per batch)%n", width, batch,
                Taps.EARLY_DEFAULT, k, Arrays.toString(split.tapShape()), earlyMs);

        UmmProblem sub = problem(split, m, 32, false, topK);
        UmmProblem full = problem(split, m, batch, false, topK);
        UmmProblem phi = problem(split, m, 32, true, topK);
        System.out.println("dR membership: " + (topK > 0 ? "instance top-" + topK : "dense instance"));
        for (UmmProblem p : List.of(sub, full, phi)) {
            p.setBatch(e1, e2, List.of(), 7);
        }
        INDArray theta = sub.theta();
        double ssl = time(() -> sub.ssl(theta, null, true), iters, warmup);
        double inner = time(() -> sub.inner(theta, null, true), iters, warmup);
        double innerFull = time(() -> full.inner(theta, null, true), iters, warmup);
        double outer = time(() -> sub.outer(theta, null, true), iters, warmup);
        Hypergradient unrolled = Hypergradient.byName("unrolled", 0.01); // forward differences: the default
        Hypergradient unrolledCentral = Hypergradient.byName("unrolled", 0.01, Hypergradient.Difference.CENTRAL);
        Hypergradient neumann = Hypergradient.byName("neumann", 0.01);
        Hypergradient neumannCentral = Hypergradient.byName("neumann", 0.01, Hypergradient.Difference.CENTRAL);
        double stepSub = time(() -> step(sub, unrolled, e1, e2), iters, warmup);
        double stepSubCentral = time(() -> step(sub, unrolledCentral, e1, e2), iters, warmup);
        double stepFull = time(() -> step(full, unrolledCentral, e1, e2), iters, warmup);
        double stepNeumann = time(() -> step(phi, neumann, e1, e2), Math.max(1, iters - 1), warmup);
        double stepNeumannCentral = time(() -> step(phi, neumannCentral, e1, e2), Math.max(1, iters - 1), warmup);

        // where a default step's time goes beyond the oracle calls
        double setBatchMs = time(() -> {
            sub.setBatch(e1, e2, List.of(), 7);
            return null;
        }, iters, warmup);
        sub.setBatch(e1, e2, List.of(), 7);
        double computeMs = time(() -> unrolled.compute(sub, theta, sub.phi()), iters, warmup);
        double commitMs = time(() -> sub.commit(theta, null), iters, warmup);
        System.out.printf(Locale.ROOT, "default step phases (ms, medians): setBatch %.0f, hypergradient %.0f, commit %.0f%n",
                setBatchMs, computeMs, commitMs);

        double s = 32.0 / (2.0 * batch);
        double innerModel = 1 + (k + 1) * s;
        System.out.printf(Locale.ROOT, "%-44s %10s %8s %14s%n", "measured (ms, median)", "ms", "x SSL", "cost model");
        row("plain SSL step of f_l (fwd+bwd on 2B)", ssl, ssl, "1");
        row("inner gradient, sketch on 32", inner, ssl, String.format(Locale.ROOT, "%.2f", innerModel));
        row("inner gradient, sketch on B (one view)", innerFull, ssl, String.format(Locale.ROOT, "%.2f", 1 + (k + 1) / 2.0));
        row("outer gradient (SSL - lambda dR)", outer, ssl, "1 (+dR)");
        // the commit needs no pass of its own: BatchNorm steps and the logged values come from the first evaluation
        row("UMM step unrolled, forward HVP, sketch on 32", stepSub, ssl,
                String.format(Locale.ROOT, "%.2f", 2 * innerModel + 1));
        row("UMM step unrolled, central HVP, sketch on 32", stepSubCentral, ssl,
                String.format(Locale.ROOT, "%.2f", 3 * innerModel + 1));
        row("UMM step unrolled, central, sketch on B (naive)", stepFull, ssl,
                String.format(Locale.ROOT, "%.2f", 3.5 + 1.5 * (k + 1)));
        row("UMM step neumann K=5, forward, sketch on 32", stepNeumann, ssl,
                String.format(Locale.ROOT, "%.2f", 8 * innerModel + 2)); // 1 + K + 2 inner, 2 outer calls
        row("UMM step neumann K=5, central, sketch on 32", stepNeumannCentral, ssl,
                String.format(Locale.ROOT, "%.2f", 13 * innerModel + 2)); // 1 + 2K + 2 inner, 2 outer
        System.out.printf(Locale.ROOT, "cost model (DESIGN.md): naive 3.5 + 1.5(k+1) = %.1f x; target <= 6 x%n",
                3.5 + 1.5 * (k + 1));
    }

    private static UmmProblem problem(SplitBackbone split, SslMethod m, int sketchBatch, boolean phi, int topK) {
        UmmConfig cfg = new UmmConfig(1, 1, 0.5, 0.5, CpaSketch.defaults(), sketchBatch, topK);
        return new UmmProblem(split.last(), m.objective(), cfg, "projector", phi);
    }

    private static Object step(UmmProblem p, Hypergradient h, INDArray e1, INDArray e2) {
        p.setBatch(e1, e2, List.of(), 7);
        INDArray theta = p.theta();
        INDArray ph = p.phi();
        Hypergradient.Directions d = h.compute(p, theta, ph);
        // the update itself is an Adam step over the flat vector: negligible; commit runs the BN-statistics forward
        return p.commit(theta.sub(d.theta().mul(1e-6)), d.phi() == null ? null : ph.sub(d.phi().mul(1e-6)));
    }

    private static void row(String name, double ms, double ssl, String model) {
        System.out.printf(Locale.ROOT, "%-44s %10.0f %8.2f %14s%n", name, ms, ms / ssl, model);
    }

    private static double time(Supplier<?> f, int iters, int warmup) {
        for (int i = 0; i < warmup; i++) {
            f.get();
        }
        double[] t = new double[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            f.get();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[iters / 2];
    }
}
