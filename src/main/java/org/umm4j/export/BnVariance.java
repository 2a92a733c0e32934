package org.umm4j.export;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Converts between DL4J's BatchNormalization running-variance parameterisations and PyTorch's
 * {@code running_var}.
 *
 * <p>DL4J 1.0.0-M2.1's {@code BatchNormalization} defaults to {@code useLogStd = true} (umm4j's ResNets keep the
 * default): it stores {@code l = log10(s)} (parameter {@code log10stdev}) and, both at inference and when
 * updating the running average, recovers the variance as {@code var = (10^l)^2}, computed in the layer's data
 * type with ND4J's {@code pow} and a square; {@code eps} is added afterwards, {@code y = gamma (x - mean) /
 * sqrt(var + eps) + beta}, exactly PyTorch's eval-mode formula with {@code running_var = var}. So the exported
 * {@code running_var} is {@link #variance(INDArray)}, computed with the same ND4J operations as the layer, and
 * PyTorch sees the very float32 variance DL4J uses. With {@code useLogStd = false} the parameter {@code var} is
 * {@code running_var} directly.
 *
 * <p>The inverse is not unique in float32: near {@code l = 0} (variances near 1) consecutive float variances are
 * about 200 float steps of {@code l} apart, so several {@code l} give the same variance and most {@code l} have
 * no float variance of their own. {@link #log10Std} therefore returns an {@code l} whose
 * {@code (10^l)^2} equals the given variance bit for bit (the one nearest to {@code 0.5 log10(var)}), found by
 * a galloping search and a bisection over the ordered float bit patterns of {@code l}, all elements at once.
 * The imported layer then computes exactly the exported variance, so its outputs are identical; its
 * {@code log10stdev} parameter can differ from the original one by a few units in the last place (values that
 * the layer cannot tell apart). A variance that no float {@code l} reproduces (one written by PyTorch, say)
 * gets the {@code l} whose variance is nearest.
 */
final class BnVariance {
    private static final int MAX_GALLOP = 31;

    private BnVariance() {
    }

    /** @return {@code (10^l)^2} exactly as DL4J's BatchNormalization layer computes it, same shape and type */
    static INDArray variance(INDArray log10Std) {
        INDArray v = Transforms.pow(Nd4j.valueArrayOf(log10Std.shape(), 10.0, log10Std.dataType()), log10Std, false);
        v.muli(v);
        return v;
    }

    /**
     * @param var  non-negative variances
     * @param type the data type of the target parameter (FLOAT searches for an exact preimage; other types use
     *             {@code 0.5 log10(var)} in double)
     * @param key  name for error messages
     * @return {@code l} with {@link #variance} equal to {@code var} (see the class comment), shape {@code [1, C]}
     */
    static INDArray log10Std(float[] var, DataType type, String key) {
        int n = var.length;
        for (int i = 0; i < n; i++) {
            if (!(var[i] >= 0) || Float.isInfinite(var[i])) {
                throw new IllegalArgumentException(key + "[" + i + "] must be a finite variance >= 0, got " + var[i]);
            }
        }
        double[] l0 = new double[n];
        for (int i = 0; i < n; i++) {
            l0[i] = 0.5 * Math.log10(var[i]);
        }
        if (type != DataType.FLOAT) {
            return Nd4j.create(l0, new long[]{1, n}, 'c').castTo(type);
        }
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) l0[i];
        }
        float[] f = eval(l);
        int[] todo = mismatches(f, var);
        if (todo.length > 0) {
            search(l, f, var, todo);
        }
        return Nd4j.create(l, new long[]{1, n}, 'c');
    }

    /** Refines {@code l[i]} for every {@code i} in {@code todo} so that {@code f(l[i])} matches {@code var[i]}. */
    private static void search(float[] l, float[] f, float[] var, int[] todo) {
        int m = todo.length;
        long[] start = new long[m];
        int[] dir = new int[m];
        for (int j = 0; j < m; j++) {
            int i = todo[j];
            start[j] = key(l[i]);
            dir[j] = f[i] < var[i] ? 1 : -1;
        }
        // gallop away from the start until the variance crosses the target: bracket (inner, outer]
        long[] inner = start.clone();
        long[] outer = new long[m];
        boolean[] found = new boolean[m];
        for (int g = 0; g <= MAX_GALLOP; g++) {
            float[] cand = new float[m];
            for (int j = 0; j < m; j++) {
                long k = found[j] ? outer[j] : start[j] + dir[j] * (1L << g);
                cand[j] = fromKey(clampKey(k));
            }
            float[] fc = eval(cand);
            boolean all = true;
            for (int j = 0; j < m; j++) {
                if (found[j]) {
                    continue;
                }
                int i = todo[j];
                long k = clampKey(start[j] + dir[j] * (1L << g));
                if (crossed(fc[j], var[i], dir[j]) || k == clampKey(k + dir[j])) {
                    outer[j] = k;
                    found[j] = true;
                } else {
                    inner[j] = k;
                    all = false;
                }
            }
            if (all) {
                break;
            }
        }
        // bisection: inner has not crossed, outer has; find the first crossing key
        for (int it = 0; it < 64; it++) {
            boolean any = false;
            float[] cand = new float[m];
            long[] mid = new long[m];
            for (int j = 0; j < m; j++) {
                mid[j] = inner[j] + (outer[j] - inner[j]) / 2;
                if (Math.abs(outer[j] - inner[j]) > 1) {
                    any = true;
                }
                cand[j] = fromKey(mid[j]);
            }
            if (!any) {
                break;
            }
            float[] fc = eval(cand);
            for (int j = 0; j < m; j++) {
                if (Math.abs(outer[j] - inner[j]) <= 1) {
                    continue;
                }
                if (crossed(fc[j], var[todo[j]], dir[j])) {
                    outer[j] = mid[j];
                } else {
                    inner[j] = mid[j];
                }
            }
        }
        // outer is the first key whose variance reaches the target; inner the last one short of it
        float[] co = new float[m];
        float[] ci = new float[m];
        for (int j = 0; j < m; j++) {
            co[j] = fromKey(outer[j]);
            ci[j] = fromKey(inner[j]);
        }
        float[] fo = eval(co);
        float[] fi = eval(ci);
        for (int j = 0; j < m; j++) {
            int i = todo[j];
            double dOuter = Math.abs((double) fo[j] - var[i]);
            double dInner = Math.abs((double) fi[j] - var[i]);
            l[i] = dOuter <= dInner ? co[j] : ci[j];
        }
    }

    private static boolean crossed(float f, float target, int dir) {
        return dir > 0 ? f >= target : f <= target;
    }

    private static int[] mismatches(float[] f, float[] var) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < f.length; i++) {
            if (Float.floatToIntBits(f[i]) != Float.floatToIntBits(var[i]) && !(f[i] == 0 && var[i] == 0)) {
                out.add(i);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The layer's variance of each element, evaluated as one row like a BN parameter. */
    private static float[] eval(float[] l) {
        return variance(Nd4j.create(l, new long[]{1, l.length}, 'c')).data().asFloat();
    }

    /** Monotone integer key of a float: key(a) &lt; key(b) iff a &lt; b (both zeros map to 0). */
    static long key(float x) {
        int b = Float.floatToIntBits(x);
        return b >= 0 ? b : -(long) (b & 0x7fffffff);
    }

    static float fromKey(long k) {
        return k >= 0 ? Float.intBitsToFloat((int) k) : -Float.intBitsToFloat((int) -k);
    }

    /** Keeps keys within the finite floats. */
    private static long clampKey(long k) {
        long max = Float.floatToIntBits(Float.MAX_VALUE);
        return Math.max(-max, Math.min(max, k));
    }
}
