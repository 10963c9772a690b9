using System.Diagnostics;
using System.Text.Json;
using AdamFamily.Cli;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>
/// The hostile pass as regression tests: every class of bad input to every command, through the real afm.dll.
/// Each must exit with the documented code, name the option or file and the value, and print no stack trace.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class CliHardeningTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static (int Code, string Output) Afm(params string[] args) => CliEndToEndTests.Afm(args);

    private static void AssertRefused((int Code, string Output) r, int code, params string[] mentioned)
    {
        Assert.True(r.Code == code, $"exit {r.Code}, expected {code}:\n{r.Output}");
        Assert.DoesNotContain("   at ", r.Output);          // no stack frame
        Assert.DoesNotContain("Exception:", r.Output);       // no .NET exception dump
        Assert.DoesNotContain("Cannot parse argument", r.Output);   // no .NET parser text
        foreach (var m in mentioned) Assert.True(r.Output.Contains(m, StringComparison.Ordinal), $"output does not mention '{m}':\n{r.Output}");
    }

    [Fact]
    public void OptionValues_AreRefused_NamingOptionAndValue_InEveryCommand()
    {
        var o = Path.Combine(_dir.Path, "out");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--margin", "nan", "--out", o), 2, "margin", "NaN");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--milestones", "99999999999", "--out", o), 2, "--milestones", "99999999999");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--milestones", "0", "--out", o), 2, "--milestones", "'0'");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--milestones", "abc", "--out", o), 2, "--milestones", "'abc'");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--epochs", "3", "--milestones", "4", "--out", o), 2, "--milestones", "epoch 4");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--milestones", "2", "--gamma", "0", "--out", o), 2, "gamma", "0");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--clip", "nan", "--out", o), 2, "clip", "NaN");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--epochs", "-1", "--out", o), 2, "epochs", "-1");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--epochs", "abc", "--out", o), 2, "--epochs: 'abc' is not a whole number");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "0", "--out", o), 2, "--seeds", "'0'");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--batch-size", "0", "--out", o), 2, "batch_size", "0");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adam", "--schedule", "cosine", "--milestones", "2", "--out", o), 2, "--milestones", "cosine");
        Assert.False(Directory.Exists(o) && Directory.EnumerateFileSystemEntries(o).Any(), "a refused compare wrote files");

        AssertRefused(Afm("toy", "--steps", "0", "--out", o), 2, "steps", "0");
        AssertRefused(Afm("toy", "--grid", "1:0.1:x", "--out", o), 2, "--grid", "1:0.1:x");
        AssertRefused(Afm("toy", "--search", "--grid", "1e-4:1:100000000", "--out", o), 2, "--grid", "100000000");   // was: 10⁸ runs
        AssertRefused(Afm("toy", "--steps", "2000000000", "--out", o), 2, "--steps", "2000000000");                  // was: 16 GB of arrays
        AssertRefused(Afm("theory", "stationarity", "--problems", ",", "--out", o), 2, "--problems");               // was: ran nothing, exit 0
        AssertRefused(Afm("theory", "stability", "--factors", "", "--out", o), 2, "--factors");
        AssertRefused(Afm("theory", "stability", "--weight-decay", "0", "--out", o), 2, "--weight-decay", "0");
        AssertRefused(Afm("theory", "sgd-limit", "--theta0", "2", "--out", o), 2, "--theta0", "2");
        AssertRefused(Afm("theory", "stationarity", "--steps", "abc"), 2, "--steps: 'abc' is not a whole number");
        AssertRefused(Afm("theory", "stability", "--factors", "0.5,nan"), 2, "--factors", "nan");
        AssertRefused(Afm("theory", "sgd-limit", "--weight-decay", "0", "--out", o), 2, "0");
        AssertRefused(Afm("bench", "--reps", "0"), 2, "reps");
        AssertRefused(Afm("bench", "--threads", "x"), 2, "--threads: 'x' is not a whole number");
        AssertRefused(Afm("bench", "--smoke", "--warmup", "-1"), 2, "--warmup", "-1");   // was: silently 1
        AssertRefused(Afm("list", "--bogus"), 2, "--bogus");
        AssertRefused(Afm("nosuchcommand"), 2, "nosuchcommand");
    }

    [Fact]
    public void ExperimentFiles_AndResultFiles_AreReadStrictly()
    {
        var file = _dir.File("exp.json");
        File.WriteAllText(file, """{ "task": "synthetic", "epoch": 2, "arms": [ { "name": "adam", "optimizer": "adam" } ] }""");
        AssertRefused(Afm("compare", "--experiment", file, "--out", Path.Combine(_dir.Path, "o1")), 2, file, "epoch");
        File.WriteAllText(file, """{ "task": "synthetic", "arms": [ { "name": "adam", "optimizer": null } ] }""");
        AssertRefused(Afm("compare", "--experiment", file, "--out", Path.Combine(_dir.Path, "o2")), 2, file, "optimizer");
        AssertRefused(Afm("compare", "--experiment", _dir.File("missing.json")), 2, "missing.json");

        // A results folder whose experiment.json or summary.json is corrupt: afm report says which file.
        var folder = Path.Combine(_dir.Path, "results");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "experiment.json"), "{ \"task\": ");
        AssertRefused(Afm("report", folder), 2, "experiment.json");
        var good = Path.Combine(_dir.Path, "good");
        Assert.Equal(0, Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "1", "--epochs", "1", "--train-subset", "64", "--test-subset", "32", "--out", good).Code);
        File.WriteAllText(Path.Combine(good, "summary.json"), "{ \"settings\": [1,2");
        AssertRefused(Afm("report", good), 2, "summary.json");
        File.WriteAllText(Path.Combine(good, "summary.json"), "null");
        AssertRefused(Afm("report", good), 2, "summary.json");
        AssertRefused(Afm("report", Path.Combine(_dir.Path, "nowhere")), 2, "nowhere");
        File.Delete(Path.Combine(good, "summary.json"));
        Directory.Delete(Path.Combine(good, "plots"), recursive: true);
        File.WriteAllText(Path.Combine(good, "plots"), "mine");   // a file where the plots folder goes: unwritable output
        AssertRefused(Afm("report", good), 2, "plots", "is a file");
        Assert.Equal("mine", File.ReadAllText(Path.Combine(good, "plots")));
    }

    [Fact]
    public void ArmSpecs_FollowOneStrictGrammar()
    {
        var o = Path.Combine(_dir.Path, "out");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adamd:lr=0.5)", "--out", o), 2, "arm 'adamd'", "')'");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "x=adamd:lr=1e-3,lr=1e-2", "--out", o), 2, "arm 'x'", "'lr' is given twice");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adamd:weight_decay=", "--out", o), 2, "'weight_decay' has an empty value");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adamd:nonfinite=skip", "--out", o), 2, "'nonfinite'");
        AssertRefused(Afm("compare", "--task", "synthetic", "--arm", "adamd:lr=0.1,weight_decay=0.5", "--out", o), 2, "arm 'adamd'", "unstable");
        Assert.False(Directory.Exists(o));
    }

    [Fact]
    public void ParityFiles_ThatCheckNothing_AreErrors()
    {
        var empty = _dir.File("empty.json");
        File.WriteAllText(empty, """{ "cases": [] }""");
        AssertRefused(Afm("parity", empty), 2, empty, "no cases");
        var zero = _dir.File("zero.json");
        File.WriteAllText(zero, """{ "cases": [ { "name": "z", "optimizer": "Adam", "options": {}, "dtype": "float64", "shapes": [[1]], "initial": [[1.0]], "grads": [], "lrs": [], "trajectory": [] } ] }""");
        AssertRefused(Afm("parity", zero), 2, zero, "0 steps");
        var badOption = _dir.File("badopt.json");
        File.WriteAllText(badOption, """{ "cases": [ { "name": "b", "optimizer": "Adam", "options": { "lr": "fast" }, "dtype": "float64", "shapes": [[1]], "initial": [[1.0]], "grads": [[[0.1]]], "lrs": [0.1], "trajectory": [[[0.9]]] } ] }""");
        AssertRefused(Afm("parity", badOption), 2, badOption, "fast");   // options.lr contradicting lrs was silently ignored
        File.WriteAllText(badOption, File.ReadAllText(badOption).Replace("\"lr\": \"fast\"", "\"weight_decay\": \"fast\""));
        AssertRefused(Afm("parity", badOption), 2, badOption, "weight_decay", "fast");
        AssertRefused(Afm("parity", _dir.Path), 2, _dir.Path, "is a folder");
        var lion = _dir.File("lion.json");
        File.WriteAllText(lion, File.ReadAllText(zero).Replace("\"Adam\"", "\"Lion\"").Replace("\"grads\": []", "\"grads\": [[[0.1]]]").Replace("\"lrs\": []", "\"lrs\": [0.1]").Replace("\"trajectory\": []", "\"trajectory\": [[[0.9]]]"));
        AssertRefused(Afm("parity", lion), 2, lion, "Lion");   // was: reported as a failed case (exit 1)
    }

    [Fact]
    public void Outputs_AreCheckedBeforeTheWork()
    {
        var aFile = _dir.File("plain-file");
        File.WriteAllText(aFile, "x");
        var underAFile = Path.Combine(aFile, "sub");
        var sw = Stopwatch.StartNew();
        AssertRefused(Afm("bench", "--json", Path.Combine(underAFile, "b.json")), 2, "--json", "plain-file");
        AssertRefused(Afm("bench", "--json", _dir.Path), 2, "--json", "is a folder");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60));   // refused up front, not after minutes of timing
        AssertRefused(Afm("theory", "stability", "--out", underAFile), 2, "--out", "plain-file");
        AssertRefused(Afm("theory", "stationarity", "--out", aFile), 2, "--out", "is a file");
        AssertRefused(Afm("toy", "--out", aFile), 2, "--out", "is a file");
        Assert.Equal("x", File.ReadAllText(aFile));
    }

    [Fact]
    public async Task ExitCodes_AreTheDocumentedOnes()
    {
        // 130: Ctrl-C (SIGINT) during a long run.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "afm.dll"));
        foreach (var a in new[] { "theory", "stationarity", "--problems", "logistic", "--steps", "1000000", "--out", Path.Combine(_dir.Path, "sigint") }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var started = new TaskCompletionSource();
        var output = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); if (e.Data?.Contains("running") == true) started.TrySetResult(); };
        p.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        Assert.True(await Task.WhenAny(started.Task, Task.Delay(60_000)) == started.Task, "afm theory did not start");
        await Task.Delay(300);
        Process.Start("kill", new[] { "-INT", p.Id.ToString() })!.WaitForExit();
        using (var timeout = new CancellationTokenSource(30_000)) await p.WaitForExitAsync(timeout.Token);
        Assert.Equal(130, p.ExitCode);
        lock (output) Assert.Contains("interrupted", output.ToString());

        // 3: anything that is not the user's doing, with a one-line message and where to find details.
        Assert.Equal(3, ExitCodes.Classify(new NullReferenceException()));
        Assert.Equal(3, ExitCodes.Classify(new InvalidOperationException("bug")));
        Assert.Equal(2, ExitCodes.Classify(new ArgumentOutOfRangeException("epochs", -1, "epochs = -1: must be ≥ 1.")));
        Assert.Equal(2, ExitCodes.Classify(new InvalidDataException("bad file")));
        Assert.Equal(2, ExitCodes.Classify(new JsonException("bad json")));
        Assert.Equal(2, ExitCodes.Classify(new UnauthorizedAccessException("denied")));
        Assert.Equal(130, ExitCodes.Classify(new OperationCanceledException()));
        Assert.Equal("epochs = -1: must be ≥ 1.", ExitCodes.UserMessage(new ArgumentOutOfRangeException("epochs", -1, "epochs = -1: must be ≥ 1.")));
        var err = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try { Assert.Equal(3, ExitCodes.Report(new NullReferenceException("oops"))); }
        finally { Console.SetError(err); }
        Assert.Contains("AFM_DEBUG=1", captured.ToString());
        Assert.DoesNotContain("   at ", captured.ToString());
    }
}
