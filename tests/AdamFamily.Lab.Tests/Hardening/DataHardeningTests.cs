using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>
/// Hostile and broken data files: clear errors naming the file (and where), and memory bounded by what the header
/// legitimately declares. The files are generated here.
/// </summary>
public class DataHardeningTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes) { var p = _dir.File(name); File.WriteAllBytes(p, bytes); return p; }

    [Fact]
    public void AGzipStreamWhoseCrcFails_IsRefused_NamingTheFile()
    {
        var gz = TestFiles.Gzip(TestFiles.IdxLabels(new byte[] { 1, 2, 3, 4, 5 }));
        gz[^8] ^= 0xFF;   // the CRC-32 of the trailer (RFC 1952: CRC32 then ISIZE, little-endian)
        var path = Write("labels.gz", gz);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10));
        Assert.Contains(path, e.Message);
        Assert.Contains("gzip", e.Message);
    }

    [Fact]
    public void AGzipBomb_IsRefused_AfterTheDeclaredSize_WithBoundedMemory()
    {
        // The header declares 10 labels; the stream goes on for 256 MB of zeros (compressed: ~250 KB).
        var raw = new MemoryStream();
        using (var gz = new GZipStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(TestFiles.IdxLabels(new byte[10]));
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) gz.Write(zeros);
        }
        var path = Write("bomb-labels.gz", raw.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(path, e.Message);
        Assert.Contains("more than the 18 bytes its IDX header declares", e.Message);
        Assert.True(allocated < 16L << 20, $"allocated {allocated:N0} bytes reading a bomb whose header declares 18");
    }

    [Theory]
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    [InlineData(60000, 100000, 100000)]
    [InlineData(2, 65536, 65536)]
    public void AnImageHeaderWhoseSizeOverflows_IsRefused_BeforeAllocating(int count, int rows, int cols)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), cols);
        foreach (var gzip in new[] { false, true })
        {
            var path = Write(gzip ? "big.gz" : "big", gzip ? TestFiles.Gzip(header) : header);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4L << 20, "allocated more than the file could justify");
            Assert.Contains(path, e.Message);
            Assert.True(e.Message.Contains("more than one file can hold") || e.Message.Contains("truncated"), e.Message);
        }
    }

    [Fact]
    public void AHeaderDeclaringMuchMoreThanAShortGzipHolds_IsTruncated_NotAHugeAllocation()
    {
        // 1 000 000 images of 28x28 declared (784 MB), 3 present.
        var path = Write("short.gz", TestFiles.Gzip(TestFiles.IdxImages(new[] { new byte[784], new byte[784], new byte[784] }, 28, 28, declaredCount: 1_000_000)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8L << 20);
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ATrainingSetWithZeroRecords_IsRefused_NamingTheFile()
    {
        var dir = Path.Combine(_dir.Path, "fm");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), TestFiles.IdxImages(Array.Empty<byte[]>(), 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), TestFiles.IdxLabels(Array.Empty<byte>()));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), TestFiles.IdxImages(new[] { new byte[784] }, 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), TestFiles.IdxLabels(new byte[] { 3 }));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.LoadFashionMnist(dir));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("0 images", e.Message);
        var s = new ExperimentSettings { Task = "fashion-mnist", DataPath = dir, Arms = new[] { new ArmSpec("adam", "adam") } };
        Assert.Throws<InvalidDataException>(() => TaskLoader.LoadImages(s));
    }

    [Fact]
    public void AnEmptyCifarFile_IsRefused_NamingTheFile()
    {
        var path = Write("test.bin", Array.Empty<byte>());
        var e = Assert.Throws<InvalidDataException>(() => CifarReader.ReadCifar100(path, "x"));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ABinaryFileGivenAsATextCorpus_IsRefused_NamingFileAndLine()
    {
        // Invalid UTF-8 (Latin-1 é, a lone continuation byte, an ELF-like header) on line 3.
        var bytes = Encoding.UTF8.GetBytes("one two\nthree four\nfive ").Concat(new byte[] { 0xE9, 0x80, 0x7F, 0x45, 0x4C, 0x46, 0xFF }).Concat(Encoding.UTF8.GetBytes("\nsix\n")).ToArray();
        var path = Write("corpus.txt", bytes);
        var e = Assert.Throws<InvalidDataException>(() => CorpusReader.LoadText(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not UTF-8", e.Message);
        Assert.Contains("line 3", e.Message);

        // A text with NUL bytes is a binary file, not words.
        var nul = Write("nul.txt", Encoding.UTF8.GetBytes("one\0two\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n"));
        Assert.Contains("binary", Assert.Throws<InvalidDataException>(() => CorpusReader.LoadText(nul)).Message);

        // PTB files are read the same way.
        var ptb = Path.Combine(_dir.Path, "ptb");
        Directory.CreateDirectory(ptb);
        File.WriteAllText(Path.Combine(ptb, "ptb.train.txt"), "a b c\n");
        File.WriteAllBytes(Path.Combine(ptb, "ptb.valid.txt"), new byte[] { 0x61, 0x20, 0xC3, 0x28, 0x0A });
        File.WriteAllText(Path.Combine(ptb, "ptb.test.txt"), "a b\n");
        var pe = Assert.Throws<InvalidDataException>(() => CorpusReader.LoadPtb(ptb));
        Assert.Contains("ptb.valid.txt", pe.Message);
    }

    [Fact]
    public void ValidUtf8WithAByteOrderMark_StillReads()
    {
        var path = Write("bom.txt", new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Range(0, 10).Select(i => $"héllo wörld {i}")))).ToArray());
        using var c = CorpusReader.LoadText(path);
        Assert.Contains("héllo", c.Vocab.Words);
        Assert.DoesNotContain("\uFEFFhéllo", c.Vocab.Words);
    }
}
