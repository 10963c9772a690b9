using System.Diagnostics;
using System.Text.Json;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests;

/// <summary>Results folders: never write into other people's files, validate before writing, one writer at a time.</summary>
[Collection(TorchRngCollection.Name)]
public class ResultsFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-folder-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ExperimentSettings S => ExecutionTests.Small with { Seeds = new[] { 0 }, Epochs = 1, Arms = ComparisonTests.Tiny.Arms.Take(1).ToArray() };

    private static Dictionary<string, (string, DateTime)> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => (File.ReadAllText(f), File.GetLastWriteTimeUtc(f)));

    [Fact]
    public void AFolderOfTheUsersOwnFiles_IsRefused_AndLeftExactlyAsItWas()
    {
        var mine = Path.Combine(_dir, "mine");
        Directory.CreateDirectory(Path.Combine(mine, "plots"));
        File.WriteAllText(Path.Combine(mine, "summary.md"), "my notes");
        File.WriteAllText(Path.Combine(mine, "report.html"), "<p>my report</p>");
        File.WriteAllText(Path.Combine(mine, "plots", "a.png"), "png");
        var before = Snapshot(mine);
        var e = Assert.ThrowsAny<InvalidOperationException>(() => ComparisonRunner.Run(S, mine));
        Assert.Contains("not an afm results folder", e.Message);
        Assert.Equal(before, Snapshot(mine));
        Assert.Equal(3, Directory.GetFileSystemEntries(mine, "*", SearchOption.AllDirectories).Length - 1); // + plots/

        var (code, output) = CliEndToEndTests.Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "1", "--epochs", "1", "--out", mine);
        Assert.Equal(2, code);
        Assert.Contains("not an afm results folder", output);
        Assert.Equal(before, Snapshot(mine));

        // An empty folder is fine, and so is an afm folder made by an earlier call.
        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.NotNull(ComparisonRunner.Run(S, empty));
        Assert.True(File.Exists(Path.Combine(empty, ResultsFolder.Marker)));
        Assert.NotNull(ComparisonRunner.Run(S, empty));
    }

    [Fact]
    public void BadInput_IsRefusedBeforeAnythingIsWritten()
    {
        var dir = Path.Combine(_dir, "out");
        Assert.ThrowsAny<ArgumentException>(() => ComparisonRunner.Run(S with { Arms = new[] { new ArmSpec("x", "adamx:lr=1") } }, dir));
        Assert.False(Directory.Exists(dir));
        // Data that is not there, and data whose contents are broken: both found before the folder is claimed.
        Assert.ThrowsAny<Exception>(() => ComparisonRunner.Run(S with { Task = "fashion-mnist", DataPath = Path.Combine(_dir, "nowhere") }, dir));
        Assert.False(Directory.Exists(dir));
        var broken = Path.Combine(_dir, "broken-fmnist");
        Directory.CreateDirectory(broken);
        foreach (var f in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            File.WriteAllBytes(Path.Combine(broken, f), new byte[] { 0, 0, 8, 3, 0, 0 });
        Assert.ThrowsAny<Exception>(() => ComparisonRunner.Run(S with { Task = "fashion-mnist", DataPath = broken }, dir));
        Assert.False(Directory.Exists(dir));

        var (code, output) = CliEndToEndTests.Afm("compare", "--task", "fashion-mnist", "--data", broken, "--arm", "adam", "--out", dir);
        Assert.Equal(2, code);
        Assert.DoesNotContain("   at ", output);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void DataPaths_AreStoredAbsolute()
    {
        var cwd = Environment.CurrentDirectory;
        var s = ComparisonRunner.Normalise(S with { DataPath = "some/../data/" });
        Assert.Equal(Path.Combine(cwd, "data"), s.DataPath);
        Assert.True(Path.IsPathFullyQualified(s.DataPath!));
    }

    [Fact]
    public void TheFolderLock_NamesItsHolder_AndAStaleLockIsTakenOver()
    {
        var dir = Path.Combine(_dir, "locked");
        using (var first = ResultsFolder.Claim(dir, "afm compare (test holder)"))
        {
            var e = Assert.Throws<FolderLockedException>(() => ResultsFolder.Claim(dir));
            Assert.Contains($"pid {Environment.ProcessId}", e.Message);
            Assert.Contains(Environment.MachineName, e.Message);
            Assert.Contains("test holder", e.Message);
            Assert.NotNull(ResultsFolder.Holder(dir));
            Assert.ThrowsAny<InvalidOperationException>(() => ComparisonRunner.Run(S, dir));
        }
        Assert.Null(ResultsFolder.Holder(dir));

        // A process that died holding the lock: its record is left behind, the OS lock went with it.
        var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        File.WriteAllText(Path.Combine(dir, ".afm-lock.json"), JsonSerializer.Serialize(new { pid = dead.Id, host = Environment.MachineName, since = "2020-01-01", command = "afm compare (killed)" }));
        using (ResultsFolder.Claim(dir))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, ".afm-lock.json")));
            Assert.Equal(Environment.ProcessId, doc.RootElement.GetProperty("pid").GetInt32());
        }
    }

    [Fact]
    public void ASecondProcess_GetsAClearMessage_NamingTheHolder()
    {
        var dir = Path.Combine(_dir, "two");
        using var held = ResultsFolder.Claim(dir, "afm compare --out two (first)");
        var (code, output) = CliEndToEndTests.Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "1", "--epochs", "1", "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains("in use by another afm process", output);
        Assert.Contains($"pid {Environment.ProcessId}", output);
        Assert.False(File.Exists(Path.Combine(dir, "experiment.json")));
    }
}
