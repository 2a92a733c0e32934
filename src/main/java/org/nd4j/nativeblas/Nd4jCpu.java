package org.nd4j.nativeblas;

import org.umm4j.backend.Umm4jBackend;

/**
 * Compatibility shim for DL4J 1.0.0-M2.1's oneDNN availability check.
 *
 * <p>{@code org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper#mklDnnEnabled()} looks up
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name and calls {@code getInstance().isUseMKLDNN()}.
 * In M2.1 that class moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment}
 * (and the method became {@code isUseONEDNN()}), so the check always fails and every conv, pooling and
 * batch-norm layer falls back to the slow generic path. This class restores the old name and forwards
 * to the real environment. It is the only class umm4j places in an ND4J package; see
 * {@link Umm4jBackend} for the rest of the fast path.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The name DL4J's availability check looks for. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        /** @return the singleton DL4J's check calls {@link #isUseMKLDNN()} on */
        public static Environment getInstance() {
            return INSTANCE;
        }

        /** @return whether the loaded libnd4j build was compiled with oneDNN and has it enabled */
        public boolean isUseMKLDNN() {
            return Umm4jBackend.nativeOneDnnEnabled();
        }
    }
}
