using System.Diagnostics;
using System.Security.Cryptography;
using AdamFamily.Lab.Experiments;
using Xunit;

namespace AdamFamily.Lab.Tests;

public class FileFingerprintTests
{
    private static void MkFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void RegularFilesOnly_FifoDeviceAndFolderAreRefusedWithoutOpening()
    {
        using var dir = new TempDir();
        var fifo = dir.File("pipe.csv");
        MkFifo(fifo);
        File.WriteAllText(dir.File("ok.csv"), "a\n1\n");
        Assert.True(FileKinds.IsRegularFile(dir.File("ok.csv")));
        Assert.False(FileKinds.IsRegularFile(fifo));
        Assert.False(FileKinds.IsRegularFile("/dev/zero"));
        Assert.False(FileKinds.IsRegularFile(dir.Path));
        Assert.False(FileKinds.IsRegularFile(dir.File("missing")));
        // Opening the FIFO would block forever: the check must come first (the test would hang, not fail, otherwise).
        var e = Assert.Throws<InvalidDataException>(() => FileFingerprint.Of(fifo));
        Assert.Contains("not a regular file", e.Message);
        Assert.Contains("pipe.csv", e.Message);
        Assert.Throws<InvalidDataException>(() => FileFingerprint.Of("/dev/zero"));
        Assert.Contains("is a folder", Assert.Throws<InvalidDataException>(() => FileFingerprint.Of(dir.Path)).Message);
        Assert.Throws<FileNotFoundException>(() => FileFingerprint.Of(dir.File("missing")));
    }

    [Fact]
    public void Fingerprint_IsSizeAndSha256OfTheContents_AndTheLinkTargetsPath()
    {
        using var dir = new TempDir();
        var data = new byte[100_000];
        new Random(3).NextBytes(data);
        Directory.CreateDirectory(dir.File("real"));
        File.WriteAllBytes(dir.File("real/t.csv"), data);
        Directory.CreateSymbolicLink(dir.File("link"), dir.File("real"));
        var f = FileFingerprint.Of(Path.Combine(dir.Path, "link", "..", "link", "t.csv"));
        Assert.Equal(data.Length, f.Size);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant(), f.Sha256);
        Assert.Equal(Path.Combine(FileFingerprint.ResolvedPath(dir.File("real")), "t.csv"), f.Path);
        f.Verify("data file");   // unchanged: no exception
    }

    [Fact]
    public void Verify_RefusesAChangedOrMissingFile_NamingItAndWhatChanged()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv");
        File.WriteAllText(path, "a,b\n1,2\n");
        var f = FileFingerprint.Of(path);
        File.WriteAllText(path, "a,b\n1,3\n");   // same size, other contents
        var e = Assert.Throws<FileChangedException>(() => f.Verify("data file"));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(path, e.Message);
        File.WriteAllText(path, "a,b\n1,3\n4,5\n");
        Assert.Contains("size 8 → 12 bytes", Assert.Throws<FileChangedException>(() => f.Verify("data file")).Message);
        File.Delete(path);
        Assert.Contains("is gone", Assert.Throws<FileChangedException>(() => f.Verify("data file")).Message);
    }
}
