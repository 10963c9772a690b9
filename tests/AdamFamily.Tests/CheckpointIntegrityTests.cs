using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Checkpoint contents are checked, not only their structure: non-finite or negative moments, trailing
/// bytes and any flipped byte are refused with an <see cref="InvalidDataException"/> naming the file, and
/// the optimizer is left exactly as it was.
/// </summary>
public class CheckpointIntegrityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-integrity-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[][] Everything(AfmdwOptimizer opt, Parameter[] ps)
        => ps.SelectMany(p => new[] { opt.StateOf(p).M, opt.StateOf(p).V, opt.StateOf(p).VMax })
             .Select(t => t is null ? Array.Empty<double>() : t.detach().to_type(ScalarType.Float64).data<double>().ToArray())
             .Append(ps.Select(p => (double)opt.StateOf(p).Step).ToArray())
             .Append(opt.Groups.Select(g => g.LearningRate).ToArray()).ToArray();

    private (AfmdwOptimizer Opt, Parameter[] Ps, double[][] Before) Target()
    {
        var ps = Fixture.Parameters(seed: 4);
        var opt = Optimizers.Create("amsgradd", ps, "lr=2e-2");
        Fixture.Run(opt, ps, 0, 3);
        return (opt, ps, Everything(opt, ps));
    }

    private string Saved(string name, Action<AfmdwOptimizer, Parameter[]>? tamper = null)
    {
        var ps = Fixture.Parameters(seed: 4);
        using var opt = Optimizers.Create("amsgradd", ps, "lr=1e-2");
        Fixture.Run(opt, ps, 0, 2);
        tamper?.Invoke(opt, ps);
        var path = Path.Combine(_dir, name);
        opt.SaveCheckpoint(path);
        return path;
    }

    private static void AssertRefused(string path, string mustContain)
    {
        var ps = Fixture.Parameters(seed: 4);
        using var opt = Optimizers.Create("amsgradd", ps, "lr=2e-2");
        Fixture.Run(opt, ps, 0, 3);
        var before = Everything(opt, ps);
        var e = Assert.Throws<InvalidDataException>(() => opt.LoadCheckpoint(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(mustContain, e.Message);
        Assert.Equal(before, Everything(opt, ps));
    }

    [Fact]
    public void NonFiniteMoments_AreRefused()
    {
        AssertRefused(Saved("nan.ckpt", (o, ps) => o.StateOf(ps[0]).M![1] = double.NaN), "m");
        AssertRefused(Saved("inf.ckpt", (o, ps) => o.StateOf(ps[1]).V![0] = double.PositiveInfinity), "v");
    }

    [Fact]
    public void NegativeSecondMoments_AreRefused()
    {
        AssertRefused(Saved("negv.ckpt", (o, ps) => o.StateOf(ps[0]).V![2] = -1e-3), "negative");
        AssertRefused(Saved("negvmax.ckpt", (o, ps) => o.StateOf(ps[1]).VMax![0] = -1), "negative");
    }

    [Fact]
    public void TrailingBytes_AreRefused()
    {
        var path = Saved("trailing.ckpt");
        File.AppendAllText(path, "x");
        AssertRefused(path, "trailing");
    }

    [Fact]
    public void EveryFlippedByte_IsRefused_AndChangesNothing()
    {
        var path = Saved("good.ckpt");
        var bytes = File.ReadAllBytes(path);
        var (opt, ps, before) = Target();
        using var _ = opt;
        var bad = Path.Combine(_dir, "flipped.ckpt");
        for (int i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x10;
            File.WriteAllBytes(bad, copy);
            var e = Assert.Throws<InvalidDataException>(() => opt.LoadCheckpoint(bad));
            Assert.Contains(bad, e.Message);
        }
        Assert.Equal(before, Everything(opt, ps));
        opt.LoadCheckpoint(path); // the intact file still loads
        Assert.Equal(2, opt.StateOf(ps[0]).Step);
    }

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        // The CRC-32 (IEEE 802.3) check value of "123456789" is 0xCBF43926.
        Assert.Equal(0xCBF43926u, Checkpoints.Crc32.Compute("123456789"u8));
    }

    [Fact]
    public void StreamCheckpoints_RoundTrip_AndLeaveWhatFollows()
    {
        var ps = Fixture.Parameters(seed: 4);
        using var a = Optimizers.Create("amsgradd", ps, "lr=1e-2");
        Fixture.Run(a, ps, 0, 2);
        using var stream = new MemoryStream();
        a.SaveCheckpoint(stream);
        stream.WriteByte(42); // a container format may put something after it
        stream.Position = 0;
        var (b, qs, _) = Target();
        using (b)
        {
            b.LoadCheckpoint(stream);
            Assert.Equal(42, stream.ReadByte());
            Assert.Equal(Everything(a, ps), Everything(b, qs));
        }
    }

    [Fact]
    public void StateDictionaryWithNonFiniteMoments_IsRefused_AndChangesNothing()
    {
        var ps = Fixture.Parameters(seed: 4);
        using var source = Optimizers.Create("amsgradd", ps, "lr=1e-2");
        Fixture.Run(source, ps, 0, 2);
        source.StateOf(ps[1]).M![0] = double.NaN;
        var (target, qs, before) = Target();
        using (target)
        {
            Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => target.load_state_dict(source.state_dict())).Message);
            Assert.Equal(before, Everything(target, qs));
        }
    }
}
