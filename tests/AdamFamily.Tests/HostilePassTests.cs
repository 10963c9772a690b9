using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Regression tests from the second hostile pass over the public API (issue #11's classes): what used to be
/// silently accepted and computed wrongly, or ignored, is now refused before anything changes.
/// </summary>
public class HostilePassTests
{
    [Fact]
    public void ComplexParameters_AreRefusedAtConstruction_NotSteppedWithFrozenImaginaryParts()
    {
        // Was: accepted, and the imaginary parts never moved (v = g·g instead of |g|²), while PyTorch steps them.
        var complex = new Parameter(view_as_complex(tensor(new float[] { 1, 2, 3, -4 }).reshape(2, 2)));
        var e = Assert.Throws<ArgumentException>(() => Optimizers.Create("adam", new[] { complex }, "lr=0.1"));
        Assert.Contains("ComplexFloat32", e.Message);
        Assert.Contains("parameter 0", e.Message);
        var integer = new Parameter(zeros(3, dtype: ScalarType.Int32), requires_grad: false);
        Assert.Contains("Int32", Assert.Throws<ArgumentException>(() => new AdamD(new[] { integer }, new AfmdwOptions())).Message);
        // Real floating-point parameters of every supported width still construct.
        foreach (var t in new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64 })
            Optimizers.Create("adamd", new[] { new Parameter(zeros(3, dtype: t)) }, "").Dispose();
    }

    [Fact]
    public void WeightDecay_WithDecayNone_IsRefused_WhenBothAreGiven()
    {
        // Was: "decay=none,weight_decay=1" trained with no decay at all and described σ = 1.
        var e = Assert.Throws<ArgumentException>(() => Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none,weight_decay=1"));
        Assert.Contains("weight_decay", e.Message);
        Assert.Contains("decay=none", e.Message);
        Assert.Throws<ArgumentException>(() => Optimizers.ParseArm("afmdw:weight_decay=0.1,decay=none"));
        // decay=none alone (the preset's σ is then unused) and an explicit zero are fine.
        Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none").Dispose();
        Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none,weight_decay=0").Dispose();
    }

    [Fact]
    public void LoadCheckpoint_OfAFolder_SaysSo_AndChangesNothing()
    {
        var dir = Directory.CreateTempSubdirectory("afm-hostile-").FullName;
        try
        {
            var ps = Fixture.Parameters(seed: 4);
            using var opt = Optimizers.Create("adamd", ps, "lr=1e-2");
            Fixture.Run(opt, ps, 0, 2);
            var m = opt.StateOf(ps[0]).M!.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            var e = Assert.Throws<FileNotFoundException>(() => opt.LoadCheckpoint(dir));
            Assert.Contains("is a folder", e.Message);
            // Saving: the message names the caller's path, not the hidden temporary file (was ".x.ckpt.PID.tmp").
            var missing = Path.Combine(dir, "no", "x.ckpt");
            var d = Assert.Throws<DirectoryNotFoundException>(() => opt.SaveCheckpoint(missing));
            Assert.Contains(missing, d.Message);
            Assert.DoesNotContain(".tmp", d.Message);
            Assert.Contains("is a folder", Assert.Throws<IOException>(() => opt.SaveCheckpoint(dir)).Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
            // null or empty arguments: ArgumentException naming the parameter (was NullReferenceException from inside).
            Assert.Throws<ArgumentNullException>(() => opt.LoadCheckpoint((Stream)null!));
            Assert.Throws<ArgumentNullException>(() => opt.SaveCheckpoint((Stream)null!));
            Assert.ThrowsAny<ArgumentException>(() => opt.LoadCheckpoint(""));
            Assert.Throws<ArgumentNullException>(() => ParameterGroups.DecayAndNoDecay(null!));
            Assert.Equal(m, opt.StateOf(ps[0]).M!.detach().to_type(ScalarType.Float64).data<double>().ToArray());
            Assert.Equal(m, opt.StateOf(ps[0]).M!.detach().to_type(ScalarType.Float64).data<double>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("null", "no 'cases' array")]                                   // was: exit 3, InvalidOperationException
    [InlineData("[1, 2]", "no 'cases' array")]
    [InlineData("steps=0", "'steps' is 0 but the case has 1 steps")]          // was: replayed and passed
    [InlineData("steps=1000000000", "'steps' is 1000000000")]
    [InlineData("shape=-1", "negative dimension")]
    public void TrajectoryFiles_ThatDoNotSayWhatTheyHold_AreRefused(string variant, string message)
    {
        var path = Path.Combine(Path.GetTempPath(), $"afm-hostile-{Guid.NewGuid():N}.json");
        string Case(string steps, string shape) =>
            "{\"cases\": [{\"name\": \"c\", \"optimizer\": \"Adam\", \"options\": {\"lr\": 0.1}, \"dtype\": \"float64\", \"shapes\": [[" + shape + "]], " + steps +
            " \"initial\": [[1.0]], \"grads\": [[[0.5]]], \"lrs\": [0.1], \"trajectory\": [[[0.9]]]}]}";
        File.WriteAllText(path, variant switch
        {
            "steps=0" => Case("\"steps\": 0,", "1"),
            "steps=1000000000" => Case("\"steps\": 1000000000,", "1"),
            "shape=-1" => Case("", "-1"),
            _ => variant,
        });
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => AdamFamily.Golden.TrajectoryFile.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains(message, e.Message);
            File.WriteAllText(path, Case("\"steps\": 1,", "1"));
            Assert.Single(AdamFamily.Golden.TrajectoryFile.Load(path));   // the same case, saying what it holds
        }
        finally { File.Delete(path); }
    }
}
