/**
 * Image datasets as uint8 CHW {@link org.umm4j.data.ImageDataset}s.
 *
 * <ul>
 *   <li>Readers: {@link org.umm4j.data.Cifar10Reader} (3073-byte records), {@link org.umm4j.data.Cifar100Reader}
 *       (3074-byte records, fine or coarse labels), {@link org.umm4j.data.Stl10Reader} (column-major 96x96
 *       planes, memory-mapped), {@link org.umm4j.data.ImageFolderReader} ({@code root/<class>/*.jpg|png}, from a
 *       directory or streamed from a .tar.gz), {@link org.umm4j.data.IdxReader} (MNIST / Fashion-MNIST).</li>
 *   <li>{@link org.umm4j.data.SyntheticDataset}: the seeded content/style default that needs no files.</li>
 *   <li>{@link org.umm4j.data.Datasets#load}: load by name; {@link org.umm4j.data.Downloader} +
 *       {@link org.umm4j.data.DownloadSpec}: verified, atomic download of CIFAR-10/100 and STL-10.</li>
 *   <li>{@link org.umm4j.data.Subsets} / {@link org.umm4j.data.Subset}: class-balanced fractions (1 %, 10 %),
 *       long-tailed subsets, stratified splits; {@link org.umm4j.data.DatasetChecksum}: provenance hash.</li>
 * </ul>
 * Malformed files raise {@link org.umm4j.data.DatasetFormatException} naming the file and the problem.
 */
package org.umm4j.data;
