using AdamFamily.Lab.Data;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

public class CifarReaderTests
{
    private static byte[][] Pixels(int n, int seed) =>
        Enumerable.Range(0, n).Select(i => TestFiles.Bytes(3072, seed * 100 + i)).ToArray();

    /// <summary>Value of channel c, row y, column x of a record, per the CHW layout.</summary>
    private static float Pixel(byte[] record, int c, int y, int x) => record[c * 1024 + y * 32 + x] / 255f;

    private static void AssertRecords(Tensor inputs, byte[][] pixels)
    {
        Assert.Equal(new long[] { pixels.Length, 3, 32, 32 }, inputs.shape);
        var all = inputs.data<float>().ToArray();
        Assert.Equal(pixels.SelectMany(p => p.Select(b => b / 255f)).ToArray(), all);
        // Spot-check the CHW indexing through the tensor API too.
        Assert.Equal(Pixel(pixels[^1], 2, 31, 5), inputs[pixels.Length - 1, 2, 31, 5].item<float>());
        Assert.Equal(Pixel(pixels[0], 1, 7, 30), inputs[0, 1, 7, 30].item<float>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Cifar10RoundTrip(bool passParent)
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, CifarReader.Cifar10Folder);
        Directory.CreateDirectory(folder);
        int[] sizes = [7, 1, 2, 3, 1];
        var trainPixels = new List<byte[]>();
        var trainLabels = new List<byte>();
        for (int b = 0; b < 5; b++)
        {
            var px = Pixels(sizes[b], seed: b);
            var lb = Enumerable.Range(0, sizes[b]).Select(i => (byte)((i + b) % 10)).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{b + 1}.bin"), TestFiles.Cifar10(lb, px));
            trainPixels.AddRange(px);
            trainLabels.AddRange(lb);
        }
        var testPx = Pixels(7, seed: 9);
        byte[] testLb = [9, 0, 1, 2, 3, 4, 5];
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), TestFiles.Cifar10(testLb, testPx));

        using var task = CifarReader.LoadCifar10(passParent ? dir.Path : folder);
        Assert.Equal(10, task.NumClasses);
        Assert.Equal(14, task.Train.Count);
        AssertRecords(task.Train.Inputs, [.. trainPixels]);
        Assert.Equal(trainLabels.Select(b => (long)b), task.Train.Labels.data<long>().ToArray());
        AssertRecords(task.Test.Inputs, testPx);
        Assert.Equal(testLb.Select(b => (long)b), task.Test.Labels.data<long>().ToArray());
    }

    [Fact]
    public void Cifar100UsesFineLabels()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, CifarReader.Cifar100Folder);
        Directory.CreateDirectory(folder);
        var px = Pixels(7, seed: 3);
        byte[] coarse = [0, 1, 2, 3, 19, 5, 6], fine = [99, 0, 42, 7, 58, 13, 64];
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), TestFiles.Cifar100(coarse, fine, px));
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), TestFiles.Cifar100(coarse[..2], fine[..2], px[..2]));

        using var task = CifarReader.LoadCifar100(dir.Path);
        Assert.Equal(100, task.NumClasses);
        AssertRecords(task.Train.Inputs, px);
        Assert.Equal(fine.Select(b => (long)b), task.Train.Labels.data<long>().ToArray());
        Assert.Equal(2, task.Test.Count);
    }

    [Fact]
    public void WrongFileLengthThrowsNamingFileLengthAndRecordSize()
    {
        using var dir = new TempDir();
        string path = dir.File("train.bin");
        var bytes = TestFiles.Cifar100(new byte[2], new byte[2], Pixels(2, 1));
        File.WriteAllBytes(path, bytes[..^1]);

        var ex = Assert.Throws<InvalidDataException>(() => CifarReader.ReadCifar100(path, "x"));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"{bytes.Length - 1}", ex.Message);
        Assert.Contains("3074", ex.Message);
    }

    [Fact]
    public void Cifar10LabelOutOfRangeThrows()
    {
        using var dir = new TempDir();
        string path = dir.File("data_batch_1.bin");
        File.WriteAllBytes(path, TestFiles.Cifar10([3, 10], Pixels(2, 1)));
        var ex = Assert.Throws<InvalidDataException>(() => CifarReader.ReadCifar10([path], "x"));
        Assert.Contains(path, ex.Message);
        Assert.Contains("out of range", ex.Message);
    }

    [Fact]
    public void MissingFilesExplainTheLayout()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<FileNotFoundException>(() => CifarReader.LoadCifar10(dir.Path));
        Assert.Contains("data_batch_1.bin", ex.Message);
        Assert.Contains(CifarReader.Cifar10Folder, ex.Message);

        var ex100 = Assert.Throws<FileNotFoundException>(() => CifarReader.LoadCifar100(dir.Path));
        Assert.Contains("train.bin", ex100.Message);
        Assert.Contains(CifarReader.Cifar100Folder, ex100.Message);
    }
}
