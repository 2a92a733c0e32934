/**
 * Interoperability: trained umm4j backbones as PyTorch state dicts.
 *
 * <ul>
 *   <li>{@link org.umm4j.export.TorchStateDict}: export a {@code Backbone} (ResNet-18/50, either stem, any width,
 *       heads optional) to torchvision's {@code resnet18}/{@code resnet50} key names and shapes, and import such a
 *       state dict back (exact round trip, clear errors for missing keys and shape mismatches).</li>
 *   <li>{@link org.umm4j.export.Npz} and {@link org.umm4j.export.NpyArray}: NumPy's {@code .npz}/{@code .npy}
 *       formats (version 1.0 written, 1.0-3.0 read), so the file loads with {@code numpy.load} and then into
 *       PyTorch without pickle.</li>
 * </ul>
 * The command line front end is {@code umm4j export} ({@code org.umm4j.cli.ExportCommand}).
 */
package org.umm4j.export;
