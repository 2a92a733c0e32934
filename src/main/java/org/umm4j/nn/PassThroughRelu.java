package org.umm4j.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * Configuration of a ReLU activation layer whose BatchNorm input already applied the ReLU in training mode (the
 * workspace twin's fused BatchNorm + ReLU pairs, {@link WorkspaceBackprop}; the BatchNorm side is
 * {@code Umm4jBackend.fuseBatchNormRelu}).
 *
 * <p>In training mode the layer returns its input as its output and the incoming gradient as its input gradient:
 * {@code y = x} (= max(BN, 0), computed by the BatchNorm layer) and {@code dL/dx = dL/dy} (the BatchNorm layer zeroes
 * it where its output was off). DL4J's own activation layer instead copies the input, applies the ReLU, and copies
 * again in the backward pass before its derivative: four passes over [N, C, H, W] per layer and step. In inference mode it is DL4J's
 * layer (the BatchNorm helper fuses only in training). Before passing anything through, the layer asks
 * {@code fusedCheck} whether the BatchNorm layer really applied the ReLU in this forward pass and fails otherwise,
 * so a re-created or bypassed helper cannot silently drop the ReLU. Used only in the twin's configuration, never
 * saved.
 */
final class PassThroughRelu extends ActivationLayer {
    private static final long serialVersionUID = 1L;

    /** Set on the instantiated layer after the twin is built (the check reads the BatchNorm layer's helper). */
    private transient BooleanSupplier fusedCheck;
    /**
     * For a BatchNorm whose output stays in oneDNN's blocked layout for the convolution after this layer: hands the
     * (blocked) gradient on and tells the edge where it went, or returns null to pass it on as usual. Null: always
     * as usual.
     */
    private transient BiFunction<INDArray, LayerWorkspaceMgr, INDArray> blockedRelay;

    PassThroughRelu(IActivation relu, String name) {
        super(relu);
        setLayerName(name);
    }

    /** Binds the check that the BatchNorm layer before this one applied the ReLU in the current forward pass. */
    void bind(BooleanSupplier check) {
        this.fusedCheck = Objects.requireNonNull(check, "check");
    }

    /** Binds the gradient relay of a blocked BatchNorm -> convolution edge across this layer. */
    void bindBlockedRelay(BiFunction<INDArray, LayerWorkspaceMgr, INDArray> relay) {
        this.blockedRelay = Objects.requireNonNull(relay, "relay");
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        Impl ret = new Impl(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        ret.setParamTable(initializer().init(conf, layerParamsView, initializeParams));
        ret.setConf(conf);
        return ret;
    }

    /** The layer: pass-through in training, DL4J's activation layer in inference. */
    static final class Impl extends org.deeplearning4j.nn.layers.ActivationLayer {
        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private void check() {
            BooleanSupplier c = ((PassThroughRelu) layerConf()).fusedCheck;
            if (c == null || !c.getAsBoolean()) {
                throw new IllegalStateException("layer " + layerConf().getLayerName() + ": the BatchNorm layer "
                        + "before it did not apply the fused ReLU in this training forward pass");
            }
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            if (!training) {
                return super.activate(false, workspaceMgr);
            }
            assertInputSet(false);
            check();
            return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, input);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            BiFunction<INDArray, LayerWorkspaceMgr, INDArray> relay = ((PassThroughRelu) layerConf()).blockedRelay;
            INDArray relayed = relay == null ? null : relay.apply(epsilon, workspaceMgr);
            return new Pair<>(new DefaultGradient(), relayed != null ? relayed
                    : workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, epsilon));
        }
    }
}
