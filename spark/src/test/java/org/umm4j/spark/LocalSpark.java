package org.umm4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Test helper: a local Spark context without UI, bound to the loopback interface. */
final class LocalSpark {
    private LocalSpark() {
    }

    /** @param master e.g. {@code local[2]} or {@code local[2,2]} (2 threads, each task tried up to 2 times) */
    static JavaSparkContext start(String master) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName("umm4j-spark-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.sql.shuffle.partitions", "2");
        return new JavaSparkContext(conf);
    }
}
