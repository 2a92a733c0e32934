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
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.nio.FloatBuffer;

/**
 * DL4J's oneDNN BatchNorm helper with umm4j's own training-mode forward and backward passes for NCHW FLOAT inputs.
 *
 * <p>For x [N, C, H, W] in training mode, with {@code M = N H W}, {@code r = 1/sqrt(var + eps)}, {@code xhat = (x -
 * mean) r} and batch statistics over n, h, w (biased variance, as DL4J and PyTorch normalise):
 * <pre>
 *   forward:   y = gamma xhat + beta
 *   backward:  dL/dbeta  = sum dy,    dL/dgamma = sum dy xhat
 *              dL/dx     = gamma r (dy - dL/dbeta / M - xhat dL/dgamma / M)
 * </pre>
 * computed by {@link NchwBatchNorm}'s streaming passes over the off-heap buffers (two reads and one write forward,
 * two reads of x and dy and one write backward). DL4J's helper instead computes the statistics with ND4J's
 * per-channel {@code mean} and {@code Variance} reductions, normalises with oneDNN's plain-layout kernel and
 * back-propagates with libnd4j's {@code batchnorm_bp}; at base width 16 those were a third of an SSL step's time
 * (benchmarks/README.md). The statistics are written where DL4J's helper keeps its caches, because DL4J's layer
 * updates its running averages from them. Everything else (inference, other ranks, layouts and data types, a
 * missing gamma or beta) is the parent's unchanged code.
 *
 * <p>Installed by {@link Umm4jBackend#useFastBatchNorm}; {@code -Dumm4j.fastbatchnorm.backward=false} keeps the
 * parent's backward pass (for comparisons). Caches are allocated outside any workspace, as the parent does, because
 * DL4J reads them after the forward pass.
 */
class FusedBatchNormHelper extends MKLDNNBatchNormHelper {
    private static final Field MEAN_CACHE = cacheField("meanCache");
    private static final Field VAR_CACHE = cacheField("varCache");

    /** {@code -Dumm4j.fastbatchnorm.backward=false} keeps the parent's backward pass (for comparisons). */
    private static final boolean FUSED_BACKWARD =
            !"false".equalsIgnoreCase(System.getProperty("umm4j.fastbatchnorm.backward", "true"));

    /** The parent's caches, as this helper's training forward fills them: float copies of batchMean/batchVar. */
    private INDArray mean;
    private INDArray var;
    /** The last training forward's statistics in double; null when that forward went to the parent. */
    private double[] batchMean;
    private double[] batchVar;
    private long[] forwardShape;
    /** The last training forward's float centre, scale gamma r and shift beta (the fused ReLU's test recomputes y). */
    private float[] fwdCenter;
    private float[] fwdScale;
    private float[] fwdShift;
    /** Whether this layer's output goes through a ReLU computed here (set for the training twin's fused pairs). */
    private boolean reluAfter;
    /** Whether the last training-mode forward applied the fused ReLU (the pass-through ReLU layer checks it). */
    private boolean lastForwardFusedRelu;
    /** The blocked edge from the convolution whose output this layer alone reads, or null. */
    private BlockedHandoff handoff;
    /** Whether the last training forward ran on the handoff (its backward pass then must too). */
    private boolean blockedForward;
    /** The blocked edge to the convolution that alone reads this layer's (ReLU-fused) output, or null. */
    private BlockedEdge outEdge;

    FusedBatchNormHelper(DataType dataType) {
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

    /** @return whether a ReLU can be fused into this helper's passes (the fused backward pass is on) */
    static boolean canFuseRelu() {
        return supported() && FUSED_BACKWARD;
    }

    /**
     * Makes this layer's training-mode output {@code max(BN(x), 0)} and its backward pass take the gradient with
     * respect to that output (the ReLU layer after it then passes activations and gradients through unchanged).
     * Training inputs the fused passes cannot take (not NCHW FLOAT) then fail instead of silently losing the ReLU;
     * inference stays the parent's (the ReLU layer applies the ReLU there).
     */
    void fuseRelu(boolean on) {
        reluAfter = on;
    }

    boolean fusesRelu() {
        return reluAfter;
    }

    /** @return whether the last training-mode forward pass computed the fused ReLU */
    boolean lastForwardFusedRelu() {
        return lastForwardFusedRelu;
    }

    /** Pairs this layer with the convolution whose output it alone reads (see {@link BlockedHandoff}). */
    void pair(BlockedHandoff h) {
        this.handoff = h;
    }

    BlockedHandoff handoff() {
        return handoff;
    }

    /** Keeps this layer's output blocked for the convolution that alone reads it (see {@link BlockedEdge}). */
    void pairOutput(BlockedEdge e) {
        this.outEdge = e;
    }

    BlockedEdge output() {
        return outEdge;
    }

    private static boolean fusable(INDArray x, CNN2DFormat format) {
        return x.dataType() == DataType.FLOAT && x.rank() == 4 && format == CNN2DFormat.NCHW
                && x.length() <= Integer.MAX_VALUE / Float.BYTES && x.length() > 0;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta,
                              INDArray runningMean, INDArray runningVar, double decay, double eps, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        batchMean = null;
        lastForwardFusedRelu = false;
        blockedForward = false;
        if (outEdge != null) {
            outEdge.valueWrittenPlain(); // until the blocked path below says otherwise
        }
        if (handoff != null) {
            if (handoff.holds(x)) {
                if (training && gamma != null && beta != null && format == CNN2DFormat.NCHW) {
                    return blockedForward(x, gamma, beta, eps, workspaceMgr);
                }
                handoff.materialise(x); // other paths read NCHW values
            } else if (!handoff.lastForwardPlain()) {
                throw new IllegalStateException("BatchNorm paired with a blocked convolution output received another "
                        + "array " + java.util.Arrays.toString(x.shape()) + " (run with -D"
                        + Umm4jBackend.BLOCKED_BATCH_NORM_PROPERTY + "=false to disable the pairing)");
            }
        }
        if (!training || gamma == null || beta == null || !fusable(x, format)) {
            if (training && reluAfter) {
                throw new IllegalStateException("BatchNorm with a fused ReLU needs NCHW FLOAT input with gamma and "
                        + "beta; got " + x.dataType() + " " + java.util.Arrays.toString(x.shape()) + " " + format);
            }
            return super.preOutput(x, training, shape, gamma, beta, runningMean, runningVar, decay, eps, format,
                    workspaceMgr);
        }
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int hw = (int) (x.size(2) * x.size(3));
        ensureCaches(c);
        FloatBuffer xb = floatBuffer(x);
        double[] mu = new double[c];
        double[] vr = new double[c];
        NchwBatchNorm.statistics(xb, n, c, hw, mu, vr);
        float[] g = gamma.toFloatVector();
        float[] b = beta.toFloatVector();
        float[] center = new float[c];
        float[] scale = new float[c];
        float[] varF = new float[c];
        for (int ch = 0; ch < c; ch++) {
            center[ch] = (float) mu[ch];
            varF[ch] = (float) vr[ch];
            scale[ch] = (float) (g[ch] / Math.sqrt(vr[ch] + eps));
        }
        mean.assign(Nd4j.createFromArray(center));
        var.assign(Nd4j.createFromArray(varF));
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape(), 'c');
        INDArray target = plainTarget(out);
        NchwBatchNorm.affine(xb, target.data().asNio().asFloatBuffer(), n, c, hw, center, scale, b, reluAfter);
        if (target != out) {
            out.assign(target);
        }
        batchMean = mu;
        batchVar = vr;
        forwardShape = x.shape();
        fwdCenter = center;
        fwdScale = scale;
        fwdShift = b;
        lastForwardFusedRelu = reluAfter;
        return out;
    }

    /** The parent's mean/var caches (DL4J updates its running averages from them), created for {@code c} channels. */
    private void ensureCaches(int c) {
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
    }

    /** Training forward on the paired convolution's blocked output (oneDNN's blocked-layout kernel). */
    private INDArray blockedForward(INDArray x, INDArray gamma, INDArray beta, double eps,
                                    LayerWorkspaceMgr workspaceMgr) {
        int c = (int) x.size(1);
        ensureCaches(c);
        float[] mu = new float[c];
        float[] vr = new float[c];
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape(), 'c');
        INDArray target = plainTarget(out);
        // (a strided workspace array gets NCHW values through the copy below instead)
        BlockedEdge edge = target == out ? outEdge : null;
        handoff.batchNormForward(x, gamma.toFloatVector(), beta.toFloatVector(), eps, reluAfter, target, mu, vr, edge);
        if (target != out) {
            out.assign(target);
        }
        mean.assign(Nd4j.createFromArray(mu));
        var.assign(Nd4j.createFromArray(vr));
        forwardShape = x.shape();
        blockedForward = true;
        lastForwardFusedRelu = reluAfter;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (blockedForward) {
            if (!java.util.Arrays.equals(input.shape(), epsilon.shape()) || dGammaView == null || dBetaView == null) {
                throw new IllegalStateException("blocked BatchNorm backward: gradient " + java.util.Arrays.toString(
                        epsilon.shape()) + " for input " + java.util.Arrays.toString(input.shape()));
            }
            int c = (int) input.size(1);
            float[] dGamma = new float[c];
            float[] dBeta = new float[c];
            INDArray dy = DnnlContext.isPlain(epsilon) ? epsilon : epsilon.dup('c');
            // the blocked gradient goes into DL4J's input-gradient array; the paired convolution reads it from there
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(),
                    'c');
            handoff.batchNormBackward(input, dy, out, dGamma, dBeta, outEdge);
            return gradients(dGamma, dBeta, dGammaView, dBetaView, out);
        }
        if (batchMean == null || !FUSED_BACKWARD || !fusable(input, format) || epsilon.dataType() != DataType.FLOAT
                || gamma == null || dGammaView == null || dBetaView == null
                || !java.util.Arrays.equals(input.shape(), forwardShape)
                || !java.util.Arrays.equals(input.shape(), epsilon.shape())) {
            if (reluAfter) {
                throw new IllegalStateException("BatchNorm with a fused ReLU: the backward pass needs the fused "
                        + "training forward of the same NCHW FLOAT input; got input " + input.dataType() + " "
                        + java.util.Arrays.toString(input.shape()) + ", gradient " + epsilon.dataType() + " "
                        + java.util.Arrays.toString(epsilon.shape()));
            }
            return super.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format,
                    workspaceMgr);
        }
        int n = (int) input.size(0);
        int c = (int) input.size(1);
        int hw = (int) (input.size(2) * input.size(3));
        FloatBuffer x = floatBuffer(input);
        FloatBuffer dy = floatBuffer(epsilon);
        double[] sumDy = new double[c];
        double[] sumDyXc = new double[c];
        float[] reluScale = reluAfter ? fwdScale : null;
        float[] reluShift = reluAfter ? fwdShift : null;
        NchwBatchNorm.gradientSums(x, dy, n, c, hw, batchMean, sumDy, sumDyXc, fwdCenter, reluScale, reluShift);
        float[] g = gamma.toFloatVector();
        float[] dGamma = new float[c];
        float[] dBeta = new float[c];
        float[] kdy = new float[c];
        float[] kx = new float[c];
        float[] k0 = new float[c];
        double m = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double r = 1 / Math.sqrt(batchVar[ch] + eps);
            double db = sumDy[ch];
            double dg = sumDyXc[ch] * r;
            double k1 = g[ch] * r;
            dBeta[ch] = (float) db;
            dGamma[ch] = (float) dg;
            kdy[ch] = (float) k1;
            kx[ch] = (float) (-k1 * dg * r / m);
            k0[ch] = (float) (-k1 * db / m);
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        INDArray target = plainTarget(out);
        NchwBatchNorm.inputGradient(x, dy, target.data().asNio().asFloatBuffer(), n, c, hw, fwdCenter, kdy, kx, k0,
                reluScale, reluShift);
        if (target != out) {
            out.assign(target);
        }
        return gradients(dGamma, dBeta, dGammaView, dBetaView, out);
    }

    /** Writes dL/dgamma and dL/dbeta into DL4J's views and returns them with dL/dx as DL4J expects. */
    private static Pair<Gradient, INDArray> gradients(float[] dGamma, float[] dBeta, INDArray dGammaView,
                                                      INDArray dBetaView, INDArray dx) {
        dGammaView.assign(Nd4j.create(dGamma, dGammaView.shape(), 'c'));
        dBetaView.assign(Nd4j.create(dBeta, dBetaView.shape(), 'c'));
        Gradient grad = new DefaultGradient();
        grad.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        grad.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(grad, dx);
    }

    /** {@code out} itself when its buffer is plain row-major, else a plain array to fill and copy into it. */
    private static INDArray plainTarget(INDArray out) {
        if (contiguous(out)) {
            return out;
        }
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) { // a workspace may hand out a strided array
            return Nd4j.createUninitialized(DataType.FLOAT, out.shape(), 'c');
        }
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
