package org.umm4j.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DatasetChecksumTest {
    private static InMemoryImageDataset tiny(int lastPixel) {
        byte[] px = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, (byte) 250, (byte) lastPixel};
        return new InMemoryImageDataset("t", 1, 2, 2, px, new int[]{2, ImageDataset.UNLABELLED, 0}, List.of("a", "b", "c"));
    }

    @Test
    void matchesIndependentPythonDigest() {
        // python3 -c "import hashlib, struct
        // h = hashlib.sha256(struct.pack('>4i',3,1,2,2))
        // for lab, px in [(2,[0,1,2,3]),(-1,[4,5,6,7]),(0,[8,9,250,255])]:
        //     h.update(struct.pack('>i',lab)); h.update(bytes(px))
        // print(h.hexdigest())"
        assertEquals("bea5e107c2f2623aadcbddc3ff6f9513f27125a246c6e5f9da80848d810149b3",
                DatasetChecksum.sha256(tiny(255)));
    }

    @Test
    void changesWithAPixelOrALabelOrOrder() {
        String base = DatasetChecksum.sha256(tiny(255));
        assertNotEquals(base, DatasetChecksum.sha256(tiny(254)));
        InMemoryImageDataset t = tiny(255);
        Subset reordered = new Subset("r", t, new int[]{1, 0, 2});
        assertNotEquals(base, DatasetChecksum.sha256(reordered));
        assertEquals(base, DatasetChecksum.sha256(new Subset("same", t, new int[]{0, 1, 2})));
    }
}
