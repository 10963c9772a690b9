using AdamFamily.Lab.Data;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

public class IdxReaderTests(ITestOutputHelper output)
{
    private const int Rows = 3, Cols = 4, N = 7;

    private static (byte[][] Images, byte[] Labels) Sample()
    {
        var images = Enumerable.Range(0, N).Select(i => TestFiles.Bytes(Rows * Cols, seed: i)).ToArray();
        images[0][0] = 0; images[0][1] = 255; // both ends of the range
        var labels = Enumerable.Range(0, N).Select(i => (byte)((i * 3) % 10)).ToArray();
        return (images, labels);
    }

    private static void AssertImages(Tensor x, byte[][] images)
    {
        Assert.Equal(new long[] { images.Length, 1, Rows, Cols }, x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        var got = x.data<float>().ToArray();
        var want = images.SelectMany(im => im.Select(b => b / 255f)).ToArray();
        Assert.Equal(want, got);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsImagesAndLabelsExactly(bool gzip)
    {
        using var dir = new TempDir();
        var (images, labels) = Sample();
        byte[] img = TestFiles.IdxImages(images, Rows, Cols), lab = TestFiles.IdxLabels(labels);
        File.WriteAllBytes(dir.File("img"), gzip ? TestFiles.Gzip(img) : img);
        File.WriteAllBytes(dir.File("lab"), gzip ? TestFiles.Gzip(lab) : lab);

        using var ds = IdxReader.Load(dir.File("img"), dir.File("lab"), numClasses: 10, name: "t");
        AssertImages(ds.Inputs, images);
        Assert.Equal(labels.Select(b => (long)b).ToArray(), ds.Labels.data<long>().ToArray());
        Assert.Equal(ScalarType.Int64, ds.Labels.dtype);
        Assert.Equal(10, ds.NumClasses);
    }

    [Fact]
    public void DetectsGzipByMagicNotExtension()
    {
        using var dir = new TempDir();
        var (images, labels) = Sample();
        // The names lie on purpose: gzip data behind the raw names, raw data behind the .gz names.
        // The reader must decide by the content's 1f 8b magic.
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), TestFiles.Gzip(TestFiles.IdxImages(images, Rows, Cols)));
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), TestFiles.Gzip(TestFiles.IdxLabels(labels)));
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte.gz"), TestFiles.IdxImages(images[..2], Rows, Cols));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte.gz"), TestFiles.IdxLabels(labels[..2]));

        using var task = IdxReader.LoadFashionMnist(dir.Path);
        Assert.Equal(N, task.Train.Count);
        Assert.Equal(2, task.Test.Count);
        AssertImages(task.Train.Inputs, images);
        AssertImages(task.Test.Inputs, images[..2]);
        Assert.Equal("fashion-mnist", task.Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedImagesFileThrowsNamingFileAndSizes(bool gzip)
    {
        using var dir = new TempDir();
        var (images, _) = Sample();
        var bytes = TestFiles.IdxImages(images, Rows, Cols);
        var cut = bytes[..^5];
        string path = dir.File("cut-images");
        File.WriteAllBytes(path, gzip ? TestFiles.Gzip(cut) : cut);

        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains($"expected {bytes.Length} bytes", ex.Message);
        Assert.Contains($"found {cut.Length}", ex.Message);
    }

    [Fact]
    public void TruncatedGzipStreamThrowsNamingFile()
    {
        using var dir = new TempDir();
        var (images, _) = Sample();
        var gz = TestFiles.Gzip(TestFiles.IdxImages(images, Rows, Cols));
        string path = dir.File("cut.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]); // the compressed stream itself is cut

        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void TruncatedHeaderThrows()
    {
        using var dir = new TempDir();
        string path = dir.File("tiny");
        File.WriteAllBytes(path, [0, 0, 8]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10));
        Assert.Contains(path, ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void BadMagicThrowsWithValueFound()
    {
        using var dir = new TempDir();
        var (_, labels) = Sample();
        string path = dir.File("labels-as-images");
        File.WriteAllBytes(path, TestFiles.IdxLabels(labels));

        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("bad magic 0x00000801", ex.Message);
        Assert.Contains("0x00000803", ex.Message);
    }

    [Fact]
    public void ImageLabelCountMismatchThrowsNamingBothFiles()
    {
        using var dir = new TempDir();
        var (images, labels) = Sample();
        File.WriteAllBytes(dir.File("img"), TestFiles.IdxImages(images, Rows, Cols));
        File.WriteAllBytes(dir.File("lab"), TestFiles.IdxLabels(labels[..^1]));

        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Load(dir.File("img"), dir.File("lab"), 10, "t"));
        Assert.Contains(dir.File("img"), ex.Message);
        Assert.Contains(dir.File("lab"), ex.Message);
        Assert.Contains($"{N} images", ex.Message);
        Assert.Contains($"{N - 1} labels", ex.Message);
    }

    [Fact]
    public void HeaderCountDisagreeingWithPayloadThrows()
    {
        using var dir = new TempDir();
        var (images, _) = Sample();
        string path = dir.File("img");
        File.WriteAllBytes(path, TestFiles.IdxImages(images, Rows, Cols, declaredCount: N - 2)); // 2 images too many
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("trailing", ex.Message);
    }

    [Fact]
    public void LabelOutOfRangeThrows()
    {
        using var dir = new TempDir();
        string path = dir.File("lab");
        File.WriteAllBytes(path, TestFiles.IdxLabels([1, 2, 10, 3]));
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, numClasses: 10));
        Assert.Contains(path, ex.Message);
        Assert.Contains("out of range", ex.Message);
        Assert.Contains("record 2", ex.Message);
    }

    [Fact]
    public void MissingFilesThrowFileNotFoundNamingTheFile()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(dir.File("nope")));
        Assert.Contains(dir.File("nope"), ex.Message);

        var ex2 = Assert.Throws<FileNotFoundException>(() => IdxReader.LoadFashionMnist(dir.Path));
        Assert.Contains("train-images-idx3-ubyte", ex2.Message);
        Assert.Contains(dir.Path, ex2.Message);
    }

    [Fact]
    public void LoadsInstalledFashionMnistTestSplit()
    {
        if (!Directory.Exists(IdxReader.DefaultFashionMnistDir))
        {
            output.WriteLine($"skipped: {IdxReader.DefaultFashionMnistDir} is absent (apt-get install dataset-fashion-mnist)");
            return;
        }
        using var ds = IdxReader.LoadFashionMnistSplit(train: false);
        Assert.Equal(10000, ds.Count);
        Assert.Equal(10, ds.NumClasses);
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, ds.Inputs.shape);
        using var min = ds.Inputs.min();
        using var max = ds.Inputs.max();
        Assert.True(min.item<float>() >= 0f);
        Assert.True(max.item<float>() <= 1f);
        Assert.Equal(1f, max.item<float>()); // real images use the full range
        using var counts = ds.Labels.bincount(null);
        Assert.Equal(Enumerable.Repeat(1000L, 10).ToArray(), counts.data<long>().ToArray()); // t10k is balanced
    }
}
