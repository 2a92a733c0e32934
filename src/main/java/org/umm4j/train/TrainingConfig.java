package org.umm4j.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loop's own settings (the method's hyper-parameters live elsewhere).
 *
 * @param epochs          total epochs of the run, &gt; 0 (a resumed run continues up to this)
 * @param stepsPerEpoch   steps per epoch, &gt; 0
 * @param seed            master seed; every random stream is derived from (seed, epoch, step)
 * @param saveEvery       checkpoint every this many epochs, &gt; 0 (the last epoch is always saved)
 * @param keepLast        checkpoints kept, &gt; 0
 * @param extraColumns    extra metrics columns the step function reports (may be empty)
 */
public record TrainingConfig(int epochs, int stepsPerEpoch, long seed, int saveEvery, int keepLast,
                             List<String> extraColumns) {
    public TrainingConfig {
        Checks.positive("epochs", epochs);
        Checks.positive("stepsPerEpoch", stepsPerEpoch);
        Checks.positive("saveEvery", saveEvery);
        Checks.positive("keepLast", keepLast);
        extraColumns = extraColumns == null ? List.of() : List.copyOf(extraColumns);
    }

    /** Same run with a different epoch total (e.g. to extend a finished run). */
    public TrainingConfig withEpochs(int e) {
        return new TrainingConfig(e, stepsPerEpoch, seed, saveEvery, keepLast, extraColumns);
    }

    /** @return total steps of the run */
    public long totalSteps() {
        return (long) epochs * stepsPerEpoch;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("stepsPerEpoch", stepsPerEpoch);
        m.put("seed", seed);
        m.put("saveEvery", saveEvery);
        m.put("keepLast", keepLast);
        m.put("extraColumns", extraColumns);
        return m;
    }
}
