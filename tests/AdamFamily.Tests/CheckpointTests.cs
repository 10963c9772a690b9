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
            first.SaveCheckpoint(path);
        }
        using (var second = Optimizers.Create(preset, resumed, Fixture.OptionsFor(preset)))
        {
            second.LoadCheckpoint(path);
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
            a.SaveCheckpoint(path);
        }
        using var b = new AdamD(ps);
        b.LoadCheckpoint(path);
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
        using (var a = Optimizers.Create("adamd", ps, "lr=1e-2")) { Fixture.Run(a, ps, 0, 2); a.SaveCheckpoint(path); }
        var (w, before) = Stepped("adamw", Fixture.Clone(ps));
        using var _ = w;
        var e = Assert.Throws<InvalidDataException>(() => ((AdamW)w).LoadCheckpoint(path));
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
        using (var a = new AdamD(other)) { Fixture.Run(a, other, 0, 2); a.SaveCheckpoint(path); }
        var (d, before) = Stepped("adamd", small);
        using var _ = d;
        var e = Assert.Throws<InvalidDataException>(() => ((AdamD)d).LoadCheckpoint(path));
        Assert.Contains("[4,2]", e.Message);
        Assert.Contains("[4,3]", e.Message);
        AssertUnchanged(d, small, before, 3);
    }

    [Fact]
    public void TruncatedAndGarbageFiles_FailClearly_AndChangeNothing()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "good.ckpt");
        using (var a = new AdamD(ps)) { Fixture.Run(a, ps, 0, 2); a.SaveCheckpoint(path); }
        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(_dir, "truncated.ckpt");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 9)]);
        var garbage = Path.Combine(_dir, "garbage.ckpt");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 300).Select(i => (byte)(i * 37)).ToArray());

        var (d, before) = Stepped("adamd", Fixture.Clone(ps));
        using var _ = d;
        foreach (var bad in new[] { truncated, garbage })
        {
            var e = Assert.Throws<InvalidDataException>(() => ((AdamD)d).LoadCheckpoint(bad));
            Assert.Contains(bad, e.Message);
            AssertUnchanged(d, d.Groups[0].Params, before, 3);
        }
        Assert.Throws<FileNotFoundException>(() => ((AdamD)d).LoadCheckpoint(Path.Combine(_dir, "missing.ckpt")));
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
        var e = Assert.Throws<InvalidDataException>(() => ours.LoadCheckpoint(path));
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

    /// <summary>
    /// Through a TorchSharp <see cref="OptimizerHelper"/> reference: the base class's save writes a format-1
    /// checkpoint that LoadCheckpoint reads (and continues exactly); the base class's load, which cannot be
    /// all or nothing, is refused with a message naming LoadCheckpoint, before anything changes.
    /// </summary>
    [Fact]
    public void ThroughTheTorchSharpBaseType_SaveIsReadable_AndLoadIsRefusedClearly()
    {
        var straight = Fixture.Parameters(seed: 8);
        var resumed = Fixture.Clone(straight);
        using (var opt = new AdamD(straight, new AfmdwOptions { LearningRate = 1e-2 })) Fixture.Run(opt, straight, 0, 6);
        var path = Path.Combine(_dir, "base.ckpt");
        using (var first = new AdamD(resumed, new AfmdwOptions { LearningRate = 1e-2 }))
        {
            Fixture.Run(first, resumed, 0, 3);
            OptimizerHelper asBase = first;
            asBase.save_state_dict(path);
        }
        var (other, before) = Stepped("adamd", Fixture.Clone(resumed));
        using (other)
        {
            OptimizerHelper asBase = other;
            var e = Assert.Throws<NotSupportedException>(() => asBase.load_state_dict(path));
            Assert.Contains("LoadCheckpoint", e.Message);
            AssertUnchanged(other, other.Groups[0].Params, before, 3);
        }
        using (var second = new AdamD(resumed, new AfmdwOptions { LearningRate = 1e-2 }))
        {
            second.LoadCheckpoint(path);
            Assert.Equal(3, second.StateOf(resumed[0]).Step);
            Fixture.Run(second, resumed, 3, 6);
        }
        Assert.Equal(Fixture.Values(straight), Fixture.Values(resumed));
    }

    /// <summary>A checkpoint in format 1 (AdamFamily 0.1: TorchSharp's body, options in fixed order) still loads.</summary>
    [Fact]
    public void Version1Checkpoint_StillLoads()
    {
        // Built by hand in the version-1 layout, independently of the library's writer.
        var p = new Parameter(tensor(new float[] { 1, 2 }));
        var path = Path.Combine(_dir, "v1.ckpt");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write("AdamD"); w.Write((byte)1); w.Write((byte)1);
            w.Write(2e-3); w.Write(3e-3); w.Write(0x4F4D4641); w.Write(1);
            w.Write(0.8); w.Write(0.99); w.Write(1e-8); w.Write(1e-3);
            w.Write("amsgrad"); w.Write(0); w.Write(0); w.Write(0);
            w.Write(true); w.Write(false); w.Write(0.0); w.Write("constant"); w.Write("constant");
            w.Write(false); w.Write(0.0); w.Write(0.0); w.Write(false); w.Write(4e-3); w.Write(true);
            w.Write(0x534D4641); w.Write(1);
            w.Write(7L); w.Write(Math.Pow(0.8, 7)); w.Write(Math.Pow(0.99, 7)); w.Write(1.0);
            foreach (var values in new[] { new float[] { 0.5f, -0.5f }, new float[] { 0.25f, 0.125f }, new float[] { 0.25f, 0.5f } })
            {
                w.Write(true); w.Write((int)ScalarType.Float32); w.Write(1); w.Write(2L);
                foreach (var v in values) w.Write(v);
            }
        }
        using var opt = new AdamD(new[] { p });
        opt.LoadCheckpoint(path);
        Assert.Equal(3e-3, opt.Groups[0].LearningRate);
        Assert.Equal(2e-3, opt.Groups[0].InitialLearningRate);
        Assert.Equal((0.8, 0.99), opt.Groups[0].Betas);
        Assert.Equal("amsgrad", opt.Groups[0].Options.Estimator);
        Assert.Equal(7, opt.StateOf(p).Step);
        Assert.Equal(new float[] { 0.25f, 0.5f }, opt.StateOf(p).VMax!.data<float>().ToArray());
    }
}
