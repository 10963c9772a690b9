using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

public class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> AllPresets() => Presets.All.Select(p => new object[] { p.Name });

    /// <summary>k steps, save, load into a fresh optimizer, continue: bit-identical to the uninterrupted run.</summary>
    [Theory]
    [MemberData(nameof(AllPresets))]
    public void SaveLoadContinue_IsBitIdentical(string preset)
    {
        var straight = Fixture.Parameters(seed: 3);
        var resumed = Fixture.Clone(straight);
        using (var opt = Optimizers.Create(preset, straight, Fixture.OptionsFor(preset)))
            Fixture.Run(opt, straight, 0, 10);

        var path = Path.Combine(_dir, preset + ".ckpt");
        using (var first = Optimizers.Create(preset, resumed, Fixture.OptionsFor(preset)))
        {
            Fixture.Run(first, resumed, 0, 5);
            first.save_state_dict(path);
        }
        using (var second = Optimizers.Create(preset, resumed, Fixture.OptionsFor(preset)))
        {
            second.load_state_dict(path);
            Assert.Equal(5, second.StateOf(resumed[0]).Step);
            Fixture.Run(second, resumed, 5, 10);
        }
        Assert.Equal(Fixture.Values(straight), Fixture.Values(resumed));
    }

    [Fact]
    public void Checkpoint_CarriesHyperParameters()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "hp.ckpt");
        using (var a = new AdamD(ps, new AfmdwOptions { LearningRate = 3e-3, WeightDecay = 1e-3, Estimator = "amsgrad" }))
        {
            Fixture.Run(a, ps, 0, 2);
            a.save_state_dict(path);
        }
        using var b = new AdamD(ps);
        b.load_state_dict(path);
        Assert.Equal(3e-3, b.Groups[0].LearningRate);
        Assert.Equal(1e-3, b.Groups[0].Options.WeightDecay);
        Assert.Equal("amsgrad", b.Groups[0].Options.Estimator);
        Assert.NotNull(b.StateOf(ps[0]).VMax);
    }

    private (AfmdwOptimizer opt, Tensor[] snapshot) Stepped(string preset, Parameter[] ps)
    {
        var opt = Optimizers.Create(preset, ps, Fixture.OptionsFor(preset));
        Fixture.Run(opt, ps, 0, 3);
        return (opt, Snapshot(opt, ps));
    }

    private static Tensor[] Snapshot(AfmdwOptimizer opt, Parameter[] ps)
        => ps.SelectMany(p => new[] { opt.StateOf(p).M!.clone(), opt.StateOf(p).V!.clone() }).ToArray();

    private static void AssertUnchanged(AfmdwOptimizer opt, Parameter[] ps, Tensor[] before, long step)
    {
        var now = Snapshot(opt, ps);
        for (int i = 0; i < now.Length; i++) Assert.True(now[i].allclose(before[i], rtol: 0, atol: 0), "state tensor changed by a failed load");
        Assert.All(ps, p => Assert.Equal(step, opt.StateOf(p).Step));
    }

    [Fact]
    public void LoadingAnotherOptimizersCheckpoint_FailsClearly_AndChangesNothing()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "adamd.ckpt");
        using (var a = Optimizers.Create("adamd", ps, "lr=1e-2")) { Fixture.Run(a, ps, 0, 2); a.save_state_dict(path); }
        var (w, before) = Stepped("adamw", Fixture.Clone(ps));
        using var _ = w;
        var e = Assert.Throws<InvalidDataException>(() => ((AdamW)w).load_state_dict(path));
        Assert.Contains("AdamD", e.Message);
        Assert.Contains(path, e.Message);
        AssertUnchanged(w, w.Groups[0].Params, before, 3);
    }

    [Fact]
    public void LoadingAnotherModelsCheckpoint_FailsClearly_AndChangesNothing()
    {
        var small = Fixture.Parameters(1, ScalarType.Float32, new long[] { 4, 3 }, new long[] { 5 });
        var other = Fixture.Parameters(1, ScalarType.Float32, new long[] { 4, 2 }, new long[] { 5 });
        var path = Path.Combine(_dir, "shape.ckpt");
        using (var a = new AdamD(other)) { Fixture.Run(a, other, 0, 2); a.save_state_dict(path); }
        var (d, before) = Stepped("adamd", small);
        using var _ = d;
        var e = Assert.Throws<InvalidDataException>(() => ((AdamD)d).load_state_dict(path));
        Assert.Contains("[4,2]", e.Message);
        Assert.Contains("[4,3]", e.Message);
        AssertUnchanged(d, small, before, 3);
    }

    [Fact]
    public void TruncatedAndGarbageFiles_FailClearly_AndChangeNothing()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "good.ckpt");
        using (var a = new AdamD(ps)) { Fixture.Run(a, ps, 0, 2); a.save_state_dict(path); }
        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(_dir, "truncated.ckpt");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 9)]);
        var garbage = Path.Combine(_dir, "garbage.ckpt");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 300).Select(i => (byte)(i * 37)).ToArray());

        var (d, before) = Stepped("adamd", Fixture.Clone(ps));
        using var _ = d;
        foreach (var bad in new[] { truncated, garbage })
        {
            var e = Assert.Throws<InvalidDataException>(() => ((AdamD)d).load_state_dict(bad));
            Assert.Contains(bad, e.Message);
            AssertUnchanged(d, d.Groups[0].Params, before, 3);
        }
        Assert.Throws<FileNotFoundException>(() => ((AdamD)d).load_state_dict(Path.Combine(_dir, "missing.ckpt")));
    }

    [Fact]
    public void TorchSharpsOwnAdamWCheckpoint_IsRecognisedAsForeign()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "torchsharp.ckpt");
        var builtin = optim.AdamW(ps, 1e-3);
        Fixture.SetGrads(ps, 0); builtin.step();
        builtin.save_state_dict(path);
        using var ours = new AdamW(ps);
        var e = Assert.Throws<InvalidDataException>(() => ours.load_state_dict(path));
        Assert.Contains("AFMO", e.Message);
    }

    [Fact]
    public void StateDictionary_RoundTrip_ContinuesIdentically()
    {
        var a = Fixture.Parameters(5);
        var b = Fixture.Clone(a);
        using var oa = new NAdamD(a, new AfmdwOptions { LearningRate = 1e-2 });
        using var ob = new NAdamD(b, new AfmdwOptions { LearningRate = 1e-2 });
        Fixture.Run(oa, a, 0, 4);
        Fixture.Run(ob, b, 0, 1);
        using (var _ = no_grad()) for (int i = 0; i < a.Length; i++) b[i].copy_(a[i]);
        ob.load_state_dict(oa.state_dict());
        Fixture.Run(oa, a, 4, 8);
        Fixture.Run(ob, b, 4, 8);
        Assert.Equal(Fixture.Values(a), Fixture.Values(b));
    }
}
