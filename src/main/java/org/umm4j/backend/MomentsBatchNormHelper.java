package org.umm4j.backend;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Moments;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * DL4J's oneDNN BatchNorm helper with faster batch statistics in training mode.
 *
 * <p>For an NCHW FLOAT input x [N, C, H, W] in training mode, DL4J's {@link MKLDNNBatchNormHelper} computes the
 * batch mean with {@code x.mean(0, 2, 3)} and the biased batch variance with ND4J's {@code Variance} op over the
 * same axes; that op walks the input through per-channel "TADs" and took 88 ms of a 120-160 ms BatchNorm forward
 * on [256, 16, 32, 32] (1 thread), about 12 % of a whole SimCLR step (JFR, benchmarks/README.md). This subclass
 * computes both statistics with libnd4j's fused {@code moments} op (one call, 5x cheaper, the same values), stores
 * them where DL4J's helper keeps its caches (the backward pass and the layer's running-average update read them
 * there), and runs the helper's own oneDNN {@code batchnorm} op with these statistics given, which is exactly the
 * helper's inference branch. Everything else (other ranks, layouts and data types, inference, the backward pass)
 * is the parent's unchanged code.
 *
 * <p>Backward pass, same inputs (NCHW FLOAT, after a training-mode forward of this helper): one fused pass per
 * channel instead of libnd4j's {@code batchnorm_bp} (oneDNN's plain-layout kernel plus generic broadcast and reduction
 * ops, 23 % of a width-16 SimCLR step's native time), with {@code M = N H W}, {@code r = 1/sqrt(var + eps)},
 * {@code xhat = (x - mean) r}:
 * <pre>
 *   dL/dbeta  = sum dy,    dL/dgamma = sum dy xhat                       (sums over n, h, w of the channel)
 *   dL/dx     = gamma r (dy - dL/dbeta / M - xhat dL/dgamma / M)
 * </pre>
 * 2x faster on [256, 16, 32, 32] (71 vs 35 ms), equal to the parent's result to float rounding (tested).
 *
 * <p>Installed by {@link Umm4jBackend#useFastBatchNorm}. Caches are allocated outside any workspace, as the parent
 * does, because DL4J reads them after the forward pass.
 */
class MomentsBatchNormHelper extends MKLDNNBatchNormHelper {
    private static final Field MEAN_CACHE = cacheField("meanCache");
    private static final Field VAR_CACHE = cacheField("varCache");

    private INDArray mean;
    private INDArray var;

    MomentsBatchNormHelper(DataType dataType) {
        super(dataType);
    }

    private static Field cacheField(String name) {
        try {
            Field f = MKLDNNBatchNormHelper.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** @return whether this DL4J build has the private cache fields the subclass writes */
    static boolean supported() {
        return MEAN_CACHE != null && VAR_CACHE != null;
    }

    /** {@code -Dumm4j.fastbatchnorm.backward=false} keeps the parent's backward pass (for comparisons). */
    private static final boolean FUSED_BACKWARD =
            !"false".equalsIgnoreCase(System.getProperty("umm4j.fastbatchnorm.backward", "true"));

    /** Whether the caches hold the batch statistics of this helper's last (training-mode, NCHW FLOAT) forward. */
    private boolean fusedBackwardReady;

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta,
                              INDArray runningMean, INDArray runningVar, double decay, double eps, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        if (!training || x.dataType() != DataType.FLOAT || x.rank() != 4 || format != CNN2DFormat.NCHW) {
            fusedBackwardReady = false;
            return super.preOutput(x, training, shape, gamma, beta, runningMean, runningVar, decay, eps, format,
                    workspaceMgr);
        }
        long c = x.size(1);
        if (mean == null || mean.length() != c) {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                mean = Nd4j.createUninitialized(DataType.FLOAT, c);
                var = Nd4j.createUninitialized(DataType.FLOAT, c);
            }
            try {
                MEAN_CACHE.set(this, mean);
                VAR_CACHE.set(this, var);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot set DL4J's BatchNorm helper caches", e);
            }
        }
        INDArray[] moments = Nd4j.exec(new Moments(x, 0, 2, 3));
        mean.assign(moments[0].reshape(c));
        var.assign(moments[1].reshape(c));
        fusedBackwardReady = true;
        // the parent's inference branch: the oneDNN batchnorm op with the given statistics
        return super.preOutput(x, false, shape, gamma, beta, mean, var, decay, eps, format, workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!fusedBackwardReady || !FUSED_BACKWARD || input.dataType() != DataType.FLOAT || epsilon.dataType() != DataType.FLOAT
                || input.rank() != 4 || format != CNN2DFormat.NCHW || gamma == null || dGammaView == null
                || dBetaView == null || !java.util.Arrays.equals(input.shape(), epsilon.shape())
                || input.size(1) != mean.length() || input.length() > Integer.MAX_VALUE / Float.BYTES) {
            return super.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format,
                    workspaceMgr);
        }
        int n = (int) input.size(0);
        int c = (int) input.size(1);
        int hw = (int) (input.size(2) * input.size(3));
        // read x and dy and write dx straight in their off-heap buffers, one (sample, channel) plane at a time through
        // a small Java array (bulk copies of hw floats, loops the JIT vectorises): no full-size Java copies, which at
        // width 64 ([256, 64, 32, 32]) were 3 x 67 MB of garbage per layer and call
        FloatBuffer x = floatBuffer(input);
        FloatBuffer dy = floatBuffer(epsilon);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        INDArray target = out;
        if (!contiguous(out)) { // a workspace may hand out a strided array: fill a plain one and copy
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                target = Nd4j.createUninitialized(DataType.FLOAT, input.shape(), 'c');
            }
        }
        FloatBuffer dx = target.data().asNio().asFloatBuffer();
        float[] mu = mean.toFloatVector();
        float[] vr = var.toFloatVector();
        float[] g = gamma.toFloatVector();
        float[] dGamma = new float[c];
        float[] dBeta = new float[c];
        float m = (float) n * hw;
        IntStream.range(0, c).parallel().forEach(ch -> {
            float[] xp = new float[hw];
            float[] dp = new float[hw];
            float r = (float) (1.0 / Math.sqrt(vr[ch] + eps));
            float m0 = mu[ch];
            double sumDy = 0;
            double sumDyXc = 0;
            for (int s = 0; s < n; s++) { // double sums: no slower here (a reduction loop is not vectorised anyway)
                int off = (s * c + ch) * hw;
                x.get(off, xp);
                dy.get(off, dp);
                for (int i = 0; i < hw; i++) {
                    double d = dp[i];
                    sumDy += d;
                    sumDyXc += d * (xp[i] - m0);
                }
            }
            float db = (float) sumDy;
            float dg = (float) (sumDyXc * r);
            dBeta[ch] = db;
            dGamma[ch] = dg;
            float k1 = g[ch] * r;
            float k2 = k1 * db / m;
            float k3 = k1 * dg * r / m;
            for (int s = 0; s < n; s++) {
                int off = (s * c + ch) * hw;
                x.get(off, xp);
                dy.get(off, dp);
                for (int i = 0; i < hw; i++) {
                    xp[i] = k1 * dp[i] - k2 - k3 * (xp[i] - m0);
                }
                dx.put(off, xp);
            }
        });
        if (target != out) {
            out.assign(target);
        }
        dGammaView.assign(Nd4j.create(dGamma, dGammaView.shape(), 'c'));
        dBetaView.assign(Nd4j.create(dBeta, dBetaView.shape(), 'c'));
        Gradient grad = new DefaultGradient();
        grad.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        grad.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(grad, out);
    }

    /** The row-major floats of a FLOAT array as a buffer view (of the array itself, or of a c-ordered copy). */
    private static FloatBuffer floatBuffer(INDArray a) {
        INDArray c = contiguous(a) ? a : a.dup('c');
        return c.data().asNio().asFloatBuffer();
    }

    private static boolean contiguous(INDArray a) {
        return a.ordering() == 'c' && a.offset() == 0 && !a.isView() && a.data().length() == a.length()
                && org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a);
    }
}
