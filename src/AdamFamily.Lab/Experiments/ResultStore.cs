using System.Globalization;
using System.Text;
using System.Text.Json;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// The results folder of a comparison: experiment.json (the settings), runs/ARM-seedN.jsonl (one per finished
/// run: a header line, one line per epoch, an end line), summary.json and summary.csv. Every file is written
/// to a temporary name and renamed, so a killed comparison never leaves a half file that reads as finished.
/// </summary>
public sealed class ResultStore
{
    public ResultStore(string dir) { Dir = Path.GetFullPath(dir); }

    public string Dir { get; }
    public string SettingsPath => Path.Combine(Dir, "experiment.json");
    public string RunPath(string arm, int seed) => Path.Combine(Dir, "runs", $"{Sanitise(arm)}-seed{seed}.jsonl");


    /// <summary>
    /// Stores the settings, or checks them against the stored ones: a restart with different settings is
    /// refused with the differing fields named.
    /// </summary>
    public void BindSettings(ExperimentSettings settings)
    {
        Directory.CreateDirectory(Path.Combine(Dir, "runs"));
        var json = settings.ToJson();
        if (File.Exists(SettingsPath))
        {
            var stored = File.ReadAllText(SettingsPath);
            if (stored == json) return;
            var diff = Differences(stored, json);
            throw new InvalidOperationException(
                $"'{Dir}' holds a comparison with other settings ({diff}). Use another --out folder, or delete it to start over.");
        }
        LabFiles.WriteAtomically(SettingsPath, json);
    }

    private static string Differences(string storedJson, string newJson)
    {
        using var a = JsonDocument.Parse(storedJson);
        using var b = JsonDocument.Parse(newJson);
        var names = a.RootElement.EnumerateObject().Select(p => p.Name).Union(b.RootElement.EnumerateObject().Select(p => p.Name));
        var diffs = new List<string>();
        foreach (var n in names)
        {
            string? x = a.RootElement.TryGetProperty(n, out var px) ? px.GetRawText() : null;
            string? y = b.RootElement.TryGetProperty(n, out var py) ? py.GetRawText() : null;
            if (Compact(x) != Compact(y)) diffs.Add($"{n}: stored {Compact(x) ?? "unset"}, now {Compact(y) ?? "unset"}");
        }
        return string.Join("; ", diffs);
        static string? Compact(string? s) => s is null ? null : string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
    }

    /// <summary>The stored result of a finished run, or null if it has not finished (missing or incomplete file).</summary>
    public RunResult? TryLoadRun(string arm, int seed)
    {
        var path = RunPath(arm, seed);
        if (!File.Exists(path)) return null;
        try
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length < 2 || !lines[^1].Contains("\"type\":\"end\"")) return null;
            double worst = double.NaN;
            using (var header = JsonDocument.Parse(lines[0]))
                if (header.RootElement.TryGetProperty("worst_metric", out var w) && w.ValueKind == JsonValueKind.Number) worst = w.GetDouble();
            var epochs = lines.Skip(1).Take(lines.Length - 2).Select(l => JsonSerializer.Deserialize<EpochMetrics>(l, LabFiles.JsonLine)!).ToList();
            return new RunResult(arm, seed, epochs, worst);
        }
        catch (JsonException) { return null; } // not a finished run: it is rerun
    }

    public void SaveRun(RunResult run)
    {
        var sb = new StringBuilder();
        sb.AppendLine(JsonSerializer.Serialize(new { type = "run", arm = run.Arm, seed = run.Seed, worst_metric = double.IsFinite(run.WorstMetric) ? run.WorstMetric : (double?)null }));
        foreach (var e in run.Epochs) sb.AppendLine(JsonSerializer.Serialize(e, LabFiles.JsonLine));
        sb.AppendLine(JsonSerializer.Serialize(new { type = "end", diverged = run.Diverged, epochs = run.Epochs.Count }));
        LabFiles.WriteAtomically(RunPath(run.Arm, run.Seed), sb.ToString());
    }

    internal static string Sanitise(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    internal static string F(double x) => double.IsNaN(x) ? "" : x.ToString("G6", CultureInfo.InvariantCulture);
}
