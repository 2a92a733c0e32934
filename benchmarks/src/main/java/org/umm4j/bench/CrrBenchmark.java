package org.umm4j.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.umm4j.crr.CodingRate;
import org.umm4j.crr.Memberships;
import org.umm4j.crr.SparseMembership;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Cost of the coding-rate monitor on {@code m = 1000} FLOAT features with unit-norm rows
 * ({@code d = 128, 512}): {@code R}, {@code Rc} under the label-free instance membership (dense, k = m,
 * versus the top-k sparse path, k = 10), and the whole label-free {@code dR} including building the
 * membership. {@code knnLeaveOneOut} is a reference point on the same features: a 5-NN majority vote
 * (cosine) of every sample against the other 999, i.e. the cheapest possible k-NN evaluation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class CrrBenchmark {
    @Param({"128", "512"})
    public int d;

    @Param({"10"})
    public int topK;

    private static final int M = 1000;
    private static final double TAU = 0.5;

    private INDArray z;
    private INDArray denseP;
    private SparseMembership sparseP;
    private int[] labels;
    private final CodingRate cr = CodingRate.withDefaults();

    @Setup
    public void setup() {
        Random r = new Random(42);
        float[] v = new float[M * d];
        for (int i = 0; i < M; i++) {
            double n = 0;
            for (int c = 0; c < d; c++) {
                v[i * d + c] = (float) r.nextGaussian();
                n += v[i * d + c] * v[i * d + c];
            }
            float inv = (float) (1 / Math.sqrt(n));
            for (int c = 0; c < d; c++) {
                v[i * d + c] *= inv;
            }
        }
        z = Nd4j.create(v, new long[]{M, d}, 'c');
        denseP = Memberships.instance(z, TAU);
        sparseP = Memberships.instanceTopK(z, TAU, topK);
        labels = r.ints(M, 0, 10).toArray();
    }

    @Benchmark
    public double rate() {
        return cr.rate(z);
    }

    @Benchmark
    public double classRateInstanceDense() {
        return cr.classRate(z, denseP);
    }

    @Benchmark
    public double classRateInstanceTopK() {
        return cr.classRate(z, sparseP);
    }

    /** The full label-free monitor, membership included. */
    @Benchmark
    public double rateReductionInstanceDense() {
        return cr.rateReduction(z, Memberships.instance(z, TAU));
    }

    /** The full label-free monitor on the sparse path, membership included. */
    @Benchmark
    public double rateReductionInstanceTopK() {
        return cr.rateReduction(z, Memberships.instanceTopK(z, TAU, topK));
    }

    /** Reference: leave-one-out 5-NN accuracy (cosine, majority vote) on the same features. */
    /** The same value in one pass ({@code CodingRate.instanceRateReductionTopK}: one Z Z^T for P and Rc, R alongside). */
    @Benchmark
    public double rateReductionInstanceTopKOnePass() {
        return cr.instanceRateReductionTopK(z, TAU, topK);
    }

    @Benchmark
    public double knnLeaveOneOut() {
        INDArray sim = z.mmul(z.transpose().dup('c'));
        float[] s = new float[M * M];
        sim.data().asNio().asFloatBuffer().get(s);
        int correct = 0;
        int[] best = new int[5];
        for (int i = 0; i < M; i++) {
            java.util.Arrays.fill(best, -1);
            for (int j = 0; j < M; j++) {
                if (j == i) {
                    continue;
                }
                float x = s[i * M + j];
                int pos = 4;
                if (best[pos] >= 0 && !(x > s[i * M + best[pos]])) {
                    continue;
                }
                while (pos > 0 && (best[pos - 1] < 0 || x > s[i * M + best[pos - 1]])) {
                    best[pos] = best[pos - 1];
                    pos--;
                }
                best[pos] = j;
            }
            int[] votes = new int[10];
            for (int b : best) {
                votes[labels[b]]++;
            }
            int arg = 0;
            for (int c = 1; c < 10; c++) {
                if (votes[c] > votes[arg]) {
                    arg = c;
                }
            }
            if (arg == labels[i]) {
                correct++;
            }
        }
        return correct / (double) M;
    }
}
