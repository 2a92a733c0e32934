package org.umm4j.data.augment;

import java.util.Objects;

/**
 * A mutable float image in channel-major (CHW) layout, values nominally in [0, 1], the working type of every
 * {@link Transform}.
 *
 * <p>Pixel {@code (c, y, x)} lives at {@code data[(c * height + y) * width + x]}, which is exactly one sample of an
 * NCHW tensor, so a batch is assembled by copying {@link #data()} back to back. The array is exposed (not copied)
 * because transforms work in place on it for speed; {@link #copy()} gives an independent image.
 *
 * <p>Conversion from the datasets' unsigned bytes is {@code v / 255}, as {@code torchvision.transforms.ToTensor}.
 */
public final class FloatImage {
    /** {@code v / 255} for every unsigned byte value: one table lookup per pixel instead of a division. */
    private static final float[] UINT8_TO_UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            UINT8_TO_UNIT[i] = i / 255f;
        }
    }

    private final int channels;
    private final int height;
    private final int width;
    private final float[] data;

    /** A zero image of the given shape. */
    public FloatImage(int channels, int height, int width) {
        this(channels, height, width, new float[checkedSize(channels, height, width)]);
    }

    /**
     * Wraps {@code data} (not copied) as a {@code channels x height x width} image.
     *
     * @throws IllegalArgumentException when a dimension is not positive or {@code data.length} does not match
     */
    public FloatImage(int channels, int height, int width, float[] data) {
        Objects.requireNonNull(data, "data");
        int size = checkedSize(channels, height, width);
        if (data.length != size) {
            throw new IllegalArgumentException("data has " + data.length + " floats, expected channels x height x width = "
                    + channels + "x" + height + "x" + width + " = " + size);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
    }

    private static int checkedSize(int channels, int height, int width) {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("channels, height and width must be positive, got "
                    + channels + "x" + height + "x" + width);
        }
        long size = (long) channels * height * width;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("image " + channels + "x" + height + "x" + width + " is too large");
        }
        return (int) size;
    }

    /**
     * Converts {@code channels * height * width} unsigned bytes (CHW) starting at {@code offset} to [0, 1] floats.
     *
     * @throws IllegalArgumentException when {@code src} is too short
     */
    public static FloatImage fromUint8(byte[] src, int offset, int channels, int height, int width) {
        Objects.requireNonNull(src, "src");
        FloatImage img = new FloatImage(channels, height, width);
        int n = img.data.length;
        if (offset < 0 || (long) offset + n > src.length) {
            throw new IllegalArgumentException("src has " + src.length + " bytes, need " + n + " from offset " + offset);
        }
        float[] d = img.data;
        for (int i = 0; i < n; i++) {
            d[i] = UINT8_TO_UNIT[src[offset + i] & 0xFF];
        }
        return img;
    }

    /** @return number of channels (1 or 3 for the datasets of this project) */
    public int channels() {
        return channels;
    }

    /** @return height in pixels */
    public int height() {
        return height;
    }

    /** @return width in pixels */
    public int width() {
        return width;
    }

    /** @return {@code channels * height * width} */
    public int size() {
        return data.length;
    }

    /** @return the live CHW pixel array (not a copy) */
    public float[] data() {
        return data;
    }

    /** @return the flat index of pixel {@code (c, y, x)} */
    public int index(int c, int y, int x) {
        return (c * height + y) * width + x;
    }

    /** @return pixel {@code (c, y, x)} */
    public float get(int c, int y, int x) {
        return data[index(c, y, x)];
    }

    /** Sets pixel {@code (c, y, x)}. */
    public void set(int c, int y, int x, float v) {
        data[index(c, y, x)] = v;
    }

    /** @return an independent copy */
    public FloatImage copy() {
        return new FloatImage(channels, height, width, data.clone());
    }

    /** @return {@code true} when {@code other} has the same shape as this image */
    public boolean sameShape(FloatImage other) {
        return channels == other.channels && height == other.height && width == other.width;
    }

    @Override
    public String toString() {
        return "FloatImage[" + channels + "x" + height + "x" + width + "]";
    }
}
