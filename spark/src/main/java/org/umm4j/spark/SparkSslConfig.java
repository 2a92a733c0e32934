package org.umm4j.spark;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Settings of distributed SSL pretraining with DL4J's parameter averaging.
 *
 * @param epochs             passes over the data, &gt;= 1
 * @param pairsPerWorker     images N per worker minibatch (the minibatch holds the 2N stacked views), &gt;= 2
 * @param workers            Spark partitions that train in parallel (one model replica each), &gt;= 1
 * @param averagingFrequency local minibatches each worker runs between two parameter averages, &gt;= 1
 * @param seed               run seed: augmentations, shuffles and the training master's RNG derive from it
 * @param checkpointEvery    save a checkpoint every this many epochs (the last epoch is always saved), &gt;= 1
 * @param keepLast           checkpoints kept on disk, &gt;= 1
 */
public record SparkSslConfig(int epochs, int pairsPerWorker, int workers, int averagingFrequency, long seed,
                             int checkpointEvery, int keepLast) {

    /** Validates; the error names the field. */
    public SparkSslConfig {
        positive("epochs", epochs, 1);
        positive("pairsPerWorker", pairsPerWorker, 2);
        positive("workers", workers, 1);
        positive("averagingFrequency", averagingFrequency, 1);
        positive("checkpointEvery", checkpointEvery, 1);
        positive("keepLast", keepLast, 1);
    }

    private static void positive(String name, int v, int min) {
        if (v < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", got " + v);
        }
    }

    /** @return rows of one worker minibatch, {@code 2 * pairsPerWorker} */
    public int rowsPerWorkerBatch() {
        return 2 * pairsPerWorker;
    }

    /** @return the fields as manifest entries */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("pairsPerWorker", pairsPerWorker);
        m.put("workers", workers);
        m.put("averagingFrequency", averagingFrequency);
        m.put("seed", seed);
        m.put("checkpointEvery", checkpointEvery);
        m.put("keepLast", keepLast);
        return m;
    }
}
