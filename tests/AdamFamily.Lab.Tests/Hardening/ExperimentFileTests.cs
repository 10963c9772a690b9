using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>Experiment files are read strictly: a typo, a null or broken JSON is an error naming the file and the key.</summary>
public class ExperimentFileTests
{
    private const string Valid = """{ "task": "synthetic", "epochs": 2, "arms": [ { "name": "adam", "optimizer": "adam:lr=1e-3" } ] }""";

    [Fact]
    public void AValidFile_Reads()
    {
        var s = ExperimentSettings.FromJson(Valid, "my.json");
        Assert.Equal(2, s.Epochs);
        s.Validate();
        // What afm writes, it reads back.
        Assert.Equal(s.ToJson(), ExperimentSettings.FromJson(s.ToJson(), "x").ToJson());
        var p = Protocols.Get("ptb-lstm-1layer", "quick");
        Assert.Equal(p.ToJson(), ExperimentSettings.FromJson(p.ToJson(), "x").ToJson());
    }

    [Theory]
    [InlineData("""{ "task": "synthetic", "epoch": 2 }""", "epoch")]                                   // typo: was silently the default 3
    [InlineData("""{ "task": "synthetic", "schedule": { "kind": "multistep", "milestone": [1] } }""", "milestone")]
    [InlineData("""{ "task": "synthetic", "lm": { "hiden": 3 } }""", "hiden")]
    [InlineData("""{ "task": null }""", "task")]
    [InlineData("""{ "seeds": null }""", "seeds")]
    [InlineData("""{ "schedule": null }""", "schedule")]
    [InlineData("""{ "arms": [ { "name": "a", "optimizer": null } ] }""", "optimizer")]
    [InlineData("""{ "arms": [ { "name": "a" } ] }""", "optimizer")]
    [InlineData("""{ "epochs": null }""", "epochs")]
    [InlineData("""{ "epochs": "three" }""", "epochs")]
    [InlineData("""{ "margin": "NaN" }""", "")]        // reads (named literals are allowed) — and Validate refuses it below
    [InlineData("""{ "task": "synthetic", """, "")]
    [InlineData("""[1, 2]""", "")]
    [InlineData("""null""", "null")]
    [InlineData("", "")]
    public void ABadFile_IsAnError_NamingTheFileAndKey(string json, string key)
    {
        Exception? e = Record.Exception(() => ExperimentSettings.FromJson(json, "/tmp/my-experiment.json").Validate());
        Assert.NotNull(e);
        Assert.True(e is InvalidDataException or ArgumentException, e.GetType().Name + ": " + e.Message);
        if (e is InvalidDataException) Assert.Contains("/tmp/my-experiment.json", e.Message);
        Assert.Contains(key, e.Message);
    }
}
