package org.umm4j.data;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content checksum of a dataset, for provenance in run manifests: two datasets with the same
 * checksum hold the same images, labels and shape in the same order, whatever files they came from.
 *
 * <p>Definition (lower-case hex SHA-256): the digest of the big-endian int32s {@code size, channels,
 * height, width}, then for each image {@code i = 0..size-1} its label as a big-endian int32 (-1 for
 * unlabelled) followed by its {@code channels*height*width} CHW pixel bytes. Class names are not
 * included. In Python: {@code h = sha256(struct.pack('>4i', n, c, h, w)); for i: h.update(struct.pack('>i',
 * label[i])); h.update(pixels[i].tobytes())}.
 */
public final class DatasetChecksum {
    private DatasetChecksum() {
    }

    /** @return the lower-case hex SHA-256 defined above */
    public static String sha256(ImageDataset ds) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        ByteBuffer header = ByteBuffer.allocate(16); // big-endian by default
        header.putInt(ds.size()).putInt(ds.channels()).putInt(ds.height()).putInt(ds.width());
        md.update(header.array());
        byte[] img = new byte[ds.imageBytes()];
        ByteBuffer lab = ByteBuffer.allocate(4);
        for (int i = 0; i < ds.size(); i++) {
            lab.clear();
            lab.putInt(ds.label(i));
            md.update(lab.array());
            ds.copyImage(i, img, 0);
            md.update(img);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
