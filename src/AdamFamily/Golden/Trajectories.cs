using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Golden;

/// <summary>
/// One reference trajectory: an optimizer, its options, initial parameters, the gradient at every step
/// and the parameters after every step. The file format is documented in docs/golden-format.md; users
/// export such files from their PyTorch runs and check them with <c>afm parity</c>.
/// </summary>
public sealed record TrajectoryCase(
    string Name, string Optimizer, IReadOnlyList<KeyValuePair<string, string>> Options, string Dtype,
    long[][] Shapes, double[][] Initial, double[][][] Grads, double[] Lrs, double[][][] Trajectory)
{
    public int Steps => Grads.Length;
    public ScalarType ScalarType => Dtype == "float32" ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>The tolerances of the golden format: |got − expected| ≤ atol + rtol·|expected|.</summary>
    public (double Rtol, double Atol) Tolerance => Dtype == "float32" ? (1e-5, 1e-6) : (1e-10, 1e-12);

    /// <summary>The library preset that reproduces this case's optimizer (PyTorch class name or Afmdw).</summary>
    public string Preset => Optimizer switch
    {
        "Adam" => "adam", "AdamW" => "adamw", "NAdam" => "nadam", "RAdam" => "radam",
        "Adamax" => "adamax", "SGD" => "sgd", "Afmdw" => "afmdw",
        _ => throw new InvalidDataException($"case '{Name}': unknown optimizer '{Optimizer}' (expected Adam, AdamW, NAdam, RAdam, Adamax, SGD or Afmdw)."),
    };
}

/// <summary>Reads trajectory files; every problem names the file and the case.</summary>
public static class TrajectoryFile
{
    public static IReadOnlyList<TrajectoryCase> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"trajectory file '{path}' does not exist.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"'{path}' has no 'cases' array (see docs/golden-format.md).");
            var result = new List<TrajectoryCase>();
            int index = 0;
            foreach (var c in cases.EnumerateArray())
            {
                string where = $"'{path}' case {index}";
                try { result.Add(Parse(c, ref where)); }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new InvalidDataException($"{where}: {e.Message}", e);
                }
                index++;
            }
            return result;
        }
    }

    private static TrajectoryCase Parse(JsonElement c, ref string where)
    {
        string name = c.GetProperty("name").GetString()!;
        where = $"{where} ('{name}')";
        var options = new List<KeyValuePair<string, string>>();
        if (c.TryGetProperty("options", out var opts))
            foreach (var p in opts.EnumerateObject())
                options.Add(new(p.Name, OptionText(p.Value)));
        var shapes = c.GetProperty("shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(d => d.GetInt64()).ToArray()).ToArray();
        var initial = Matrix(c.GetProperty("initial"));
        var grads = c.GetProperty("grads").EnumerateArray().Select(Matrix).ToArray();
        var traj = c.GetProperty("trajectory").EnumerateArray().Select(Matrix).ToArray();
        var lrs = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        string dtype = c.GetProperty("dtype").GetString()!;
        if (dtype is not ("float32" or "float64")) throw new FormatException($"dtype '{dtype}' is not float32 or float64");
        if (grads.Length != traj.Length || grads.Length != lrs.Length)
            throw new FormatException($"grads ({grads.Length}), lrs ({lrs.Length}) and trajectory ({traj.Length}) must have one entry per step");
        for (int i = 0; i < shapes.Length; i++)
        {
            long n = shapes[i].Aggregate(1L, (a, b) => a * b);
            if (initial.Length != shapes.Length || initial[i].Length != n)
                throw new FormatException($"initial value {i} has {(i < initial.Length ? initial[i].Length : 0)} elements; shape [{string.Join(",", shapes[i])}] needs {n}");
            for (int k = 0; k < grads.Length; k++)
                if (grads[k].Length != shapes.Length || grads[k][i].Length != n || traj[k].Length != shapes.Length || traj[k][i].Length != n)
                    throw new FormatException($"step {k}: gradient or trajectory of parameter {i} does not match shape [{string.Join(",", shapes[i])}]");
        }
        return new TrajectoryCase(name, c.GetProperty("optimizer").GetString()!, options, dtype, shapes, initial, grads, lrs, traj);
    }

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    private static string OptionText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Array => "(" + string.Join(",", v.EnumerateArray().Select(OptionText)) + ")",
        JsonValueKind.Number => v.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.GetString() ?? "",
    };
}

/// <summary>The outcome of replaying one case.</summary>
public sealed record ParityResult(string Case, int Steps, double MaxAbsError, double MaxRelError, double WorstToleranceRatio, bool Passed, string? Error = null);

/// <summary>Replays trajectory cases through the library and measures the error against the reference.</summary>
public static class ParityRunner
{
    /// <summary>
    /// Replays a case. The learning rate of step k is set from lrs[k] unless <paramref name="schedulerStep"/>
    /// attaches a real scheduler to the optimizer and returns its step action (called after every optimizer step).
    /// </summary>
    public static ParityResult Run(TrajectoryCase tc, ExecutionPath path = ExecutionPath.Auto,
        Func<AfmdwOptimizer, Action>? schedulerStep = null)
    {
        using var scope = NewDisposeScope();
        var dtype = tc.ScalarType;
        var parameters = tc.Shapes.Select((s, i) => new Parameter(tensor(tc.Initial[i], dtype: ScalarType.Float64).to_type(dtype).reshape(s))).ToArray();
        var options = tc.Options.Where(kv => kv.Key != "lr").ToList();
        options.Add(new("lr", tc.Lrs[0].ToString("R", CultureInfo.InvariantCulture)));
        // A replay reproduces what the reference did, and references have no stability guard (the
        // afmdw eps_outside case has η·σ/ε = 5000: safe only because no gradient is exactly zero).
        options.Add(new("stability_check", "false"));
        using var opt = Optimizers.Create(tc.Preset, parameters, options);
        opt.ExecutionPath = path;
        var afterStep = schedulerStep?.Invoke(opt);
        var (rtol, atol) = tc.Tolerance;
        double maxAbs = 0, maxRel = 0, worst = 0;
        for (int k = 0; k < tc.Steps; k++)
        {
            if (afterStep is null) opt.Groups[0].LearningRate = tc.Lrs[k];
            else if (Math.Abs(opt.Groups[0].LearningRate - tc.Lrs[k]) > 1e-12 * tc.Lrs[k])
                return new ParityResult(tc.Name, k, double.NaN, double.NaN, double.NaN, false,
                    $"the scheduler set lr {opt.Groups[0].LearningRate} at step {k}; the case expects {tc.Lrs[k]}");
            for (int i = 0; i < parameters.Length; i++)
                parameters[i].grad = tensor(tc.Grads[k][i], dtype: ScalarType.Float64).to_type(dtype).reshape(tc.Shapes[i]);
            opt.step();
            afterStep?.Invoke();
            for (int i = 0; i < parameters.Length; i++)
            {
                var got = parameters[i].detach().to_type(ScalarType.Float64).data<double>().ToArray();
                var expected = tc.Trajectory[k][i];
                for (int j = 0; j < got.Length; j++)
                {
                    double abs = Math.Abs(got[j] - expected[j]);
                    maxAbs = Math.Max(maxAbs, abs);
                    if (expected[j] != 0) maxRel = Math.Max(maxRel, abs / Math.Abs(expected[j]));
                    worst = Math.Max(worst, abs / (atol + rtol * Math.Abs(expected[j])));
                    if (double.IsNaN(got[j])) worst = double.PositiveInfinity;
                }
            }
        }
        return new ParityResult(tc.Name, tc.Steps, maxAbs, maxRel, worst, worst <= 1.0);
    }
}
