package org.umm4j.data.augment;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class RecipeTest {

    private static FloatImage image32() {
        return TransformsTest.random(3, 32, 32, 99);
    }

    @Test
    void sameSeedGivesIdenticalViewsAndOtherSeedsDiffer() {
        Recipe r = Recipes.simclrCifar();
        FloatImage src = image32();
        FloatImage before = src.copy();
        List<FloatImage> a = r.apply(src, 42, 3, 17);
        List<FloatImage> b = r.apply(src, 42, 3, 17);
        assertArrayEquals(before.data(), src.data(), "source untouched");
        assertEquals(2, a.size());
        for (int v = 0; v < 2; v++) {
            assertArrayEquals(a.get(v).data(), b.get(v).data());
        }
        assertFalse(java.util.Arrays.equals(a.get(0).data(), a.get(1).data()), "the two views differ");
        assertFalse(java.util.Arrays.equals(a.get(0).data(), r.apply(src, 43, 3, 17).get(0).data()), "seed");
        assertFalse(java.util.Arrays.equals(a.get(0).data(), r.apply(src, 42, 4, 17).get(0).data()), "epoch");
        assertFalse(java.util.Arrays.equals(a.get(0).data(), r.apply(src, 42, 3, 18).get(0).data()), "index");
    }

    @Test
    void derivedSeedsDependOnEveryCoordinate() {
        long base = SampleSeeds.derive(1, 2, 3, 4);
        assertEquals(base, SampleSeeds.derive(1, 2, 3, 4));
        assertNotEquals(base, SampleSeeds.derive(0, 2, 3, 4));
        assertNotEquals(base, SampleSeeds.derive(1, 3, 2, 4));
        assertNotEquals(base, SampleSeeds.derive(1, 2, 3, 5));
    }

    @Test
    void viewShapesOfNamedRecipes() {
        FloatImage src = image32();
        for (Recipe r : List.of(Recipes.simclrCifar(), Recipes.byolCifar(), Recipes.barlowTwinsCifar(),
                Recipes.vicregCifar())) {
            List<FloatImage> views = r.apply(src, 1, 0, 0);
            assertEquals(2, views.size(), r.name());
            for (FloatImage v : views) {
                assertEquals(3, v.channels());
                assertEquals(32, v.height());
                assertEquals(32, v.width());
            }
        }
        List<FloatImage> swav = Recipes.swavCifar(4).apply(src, 1, 0, 0);
        assertEquals(6, swav.size());
        assertEquals(32, swav.get(1).height());
        assertEquals(16, swav.get(2).height());
        assertEquals(16, swav.get(5).width());
        Recipe swavIn = Recipes.swavImageNet();
        assertEquals(8, swavIn.numViews());
        FloatImage big = TransformsTest.random(3, 64, 80, 5);
        assertEquals(224, swavIn.applyView(big, 1, 0, 0, 0).height());
        assertEquals(96, swavIn.applyView(big, 1, 0, 0, 7).width());
        assertEquals(224, Recipes.simclrImageNet().applyView(big, 1, 0, 0, 1).width());
    }

    private static <T> T find(Transform view, Class<T> type) {
        for (Transform t : ((Compose) view).transforms()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    @Test
    void byolIsAsymmetricAsInThePaper() {
        Recipe r = Recipes.byolImageNet();
        assertEquals(1.0, find(r.view(0), GaussianBlur.class).p());
        assertNull(find(r.view(0), Solarize.class));
        assertEquals(0.1, find(r.view(1), GaussianBlur.class).p());
        assertEquals(0.2, find(r.view(1), Solarize.class).p());
        assertEquals(23, find(r.view(0), GaussianBlur.class).kernelSize());
        ColorJitter j = find(r.view(1), ColorJitter.class);
        assertEquals(new ColorJitter(0.4, 0.4, 0.2, 0.1, 0.8), j);
        assertEquals(0.08, find(r.view(0), RandomResizedCrop.class).scaleMin());
        assertEquals(Normalize.imageNet(), find(r.view(0), Normalize.class));
        // CIFAR: no blur, still asymmetric solarisation; Barlow Twins and VICReg share BYOL's views.
        Recipe c = Recipes.byolCifar();
        assertNull(find(c.view(0), GaussianBlur.class));
        assertEquals(0.2, find(c.view(1), Solarize.class).p());
        assertEquals(Normalize.cifar10(), find(c.view(1), Normalize.class));
        assertEquals(r.views(), Recipes.barlowTwinsImageNet().views());
        assertEquals(r.views(), Recipes.vicregImageNet().views());
    }

    @Test
    void simclrRecipesMatchTheBrief() {
        Recipe in = Recipes.simclrImageNet();
        assertEquals(in.view(0), in.view(1));
        assertEquals(new ColorJitter(0.8 * 0.5, 0.8 * 0.5, 0.8 * 0.5, 0.2 * 0.5, 0.8), find(in.view(0), ColorJitter.class));
        assertEquals(0.2, find(in.view(0), RandomGrayscale.class).p());
        assertEquals(0.5, find(in.view(0), GaussianBlur.class).p());
        assertEquals(0.08, find(in.view(0), RandomResizedCrop.class).scaleMin());
        Recipe c = Recipes.simclrCifar();
        assertNull(find(c.view(0), GaussianBlur.class));
        assertEquals(0.2, find(c.view(0), RandomResizedCrop.class).scaleMin());
        assertEquals(32, find(c.view(0), RandomResizedCrop.class).outHeight());
    }

    @Test
    void recipeValidation() {
        assertThrows(IllegalArgumentException.class, () -> new Recipe("x", List.of()));
        assertThrows(IllegalArgumentException.class, () -> Recipes.swavCifar(-1));
    }
}
