package org.umm4j.spark;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.augment.FloatImage;
import org.umm4j.data.augment.Recipe;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Runs on a worker: turns a partition of {@link ImageRecord}s into SSL minibatches for a {@code LossLayer} with
 * {@link org.umm4j.ssl.SslLossFunction}. Each group of {@code pairs} consecutive records becomes one {@link DataSet}
 * whose features are the two augmented views stacked along the batch dimension, {@code [2N, C, S, S]} FLOAT with
 * rows {@code 0..N-1} view 1 and {@code N..2N-1} view 2 of the same images, and whose labels are zeros
 * {@code [2N, 1]} (the loss ignores them). A trailing group of fewer than {@code pairs} records is dropped, so every
 * minibatch has the same size (DL4J's trainer must not merge or split these: the stacking is positional).
 *
 * <p>View {@code v} of image {@code i} is {@code recipe.applyView(image, seed, epoch, i, v)}: a pure function of
 * the run seed, the epoch and the image's dataset index, so a retried task recomputes the same views and the
 * augmentation does not depend on which worker holds the image.
 */
public final class PairBatchFunction implements FlatMapFunction<Iterator<ImageRecord>, DataSet> {
    private static final long serialVersionUID = 1L;

    private final RecipeFactory recipeFactory;
    private final int channels;
    private final int height;
    private final int width;
    private final int pairs;
    private final long seed;
    private final long epoch;

    /**
     * @param recipeFactory makes the two-view recipe on the worker
     * @param channels      source image channels
     * @param height        source image height
     * @param width         source image width
     * @param pairs         images per minibatch N (the minibatch holds 2N rows), &gt;= 2
     * @param seed          run seed
     * @param epoch         epoch (part of every view's random stream)
     */
    public PairBatchFunction(RecipeFactory recipeFactory, int channels, int height, int width, int pairs, long seed,
                             long epoch) {
        if (recipeFactory == null) {
            throw new IllegalArgumentException("recipeFactory must not be null");
        }
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image shape must be positive, got " + channels + "x" + height + "x" + width);
        }
        if (pairs < 2) {
            throw new IllegalArgumentException("pairs must be >= 2 (a pair loss needs several images), got " + pairs);
        }
        this.recipeFactory = recipeFactory;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pairs = pairs;
        this.seed = seed;
        this.epoch = epoch;
    }

    @Override
    public Iterator<DataSet> call(Iterator<ImageRecord> records) {
        Umm4jBackend.init();   // worker JVMs need the oneDNN switch too, before the worker builds its network
        Recipe recipe = recipeFactory.get();
        if (recipe.numViews() != 2) {
            throw new IllegalArgumentException("recipe " + recipe.name() + " has " + recipe.numViews()
                    + " views; SSL pair training needs exactly 2");
        }
        List<DataSet> out = new ArrayList<>();
        List<ImageRecord> group = new ArrayList<>(pairs);
        while (records.hasNext()) {
            group.add(records.next());
            if (group.size() == pairs) {
                out.add(batch(recipe, group));
                group.clear();
            }
        }
        return out.iterator();
    }

    /** @return the stacked two-view minibatch of {@code group} (package-private for tests) */
    DataSet batch(Recipe recipe, List<ImageRecord> group) {
        int n = group.size();
        int expected = channels * height * width;
        float[] data = null;
        int[] viewShape = null;
        for (int v = 0; v < 2; v++) {
            for (int i = 0; i < n; i++) {
                ImageRecord r = group.get(i);
                if (r.pixels().length != expected) {
                    throw new IllegalArgumentException("image " + r.index() + " has " + r.pixels().length
                            + " bytes, expected " + channels + "x" + height + "x" + width + " = " + expected);
                }
                FloatImage img = FloatImage.fromUint8(r.pixels(), 0, channels, height, width);
                FloatImage view = recipe.applyView(img, seed, epoch, r.index(), v);
                if (data == null) {
                    viewShape = new int[]{view.channels(), view.height(), view.width()};
                    data = new float[2 * n * view.size()];
                } else if (view.channels() != viewShape[0] || view.height() != viewShape[1] || view.width() != viewShape[2]) {
                    throw new IllegalArgumentException("recipe " + recipe.name() + " makes views of different shapes; "
                            + "stacked pair batches need one shape");
                }
                System.arraycopy(view.data(), 0, data, (v * n + i) * view.size(), view.size());
            }
        }
        var features = Nd4j.create(data, new long[]{2L * n, viewShape[0], viewShape[1], viewShape[2]}, 'c');
        var labels = Nd4j.zeros(DataType.FLOAT, 2L * n, 1);
        return new DataSet(features, labels);
    }
}
