using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// The results folder of a comparison: experiment.json (the settings), plan.json (the units), runs/ARM-seedN.jsonl
/// (one per finished unit: a header line naming the unit and its hash, one line per epoch, an end line),
/// summary.json and summary.csv. Every file is written to a temporary name and renamed, so a killed comparison
/// never leaves a half file that reads as finished.
/// </summary>
public sealed class ResultStore
{
    public ResultStore(string dir) { Dir = Path.GetFullPath(dir); }

    public string Dir { get; }
    public string SettingsPath => Path.Combine(Dir, "experiment.json");
    public string PlanPath => Path.Combine(Dir, RunPlan.FileName);
    public string RunPath(string arm, int seed) => Path.Combine(Dir, ResultFileNames.RunFile(arm, seed));
    public string UnitPath(RunUnit unit) => Path.Combine(Dir, unit.Result);

    /// <summary>
    /// Stores the settings, or checks them against the stored ones: a restart with different settings is
    /// refused with the differing fields named.
    /// </summary>
    public void BindSettings(ExperimentSettings settings)
    {
        var json = settings.ToJson();
        if (File.Exists(SettingsPath))
        {
            var stored = File.ReadAllText(SettingsPath);
            if (stored == json) return;
            // A file the stored experiment read that has changed since is the likeliest difference: say so plainly.
            try
            {
                var old = ExperimentSettings.FromJson(stored, SettingsPath);
                old.Plugin?.Assembly.Verify("task assembly");
                foreach (var f in old.Files ?? []) f.Verify("data file");
            }
            catch (FileChangedException e) { throw new InvalidOperationException($"'{Dir}': {e.Message}", e); }
            catch (InvalidDataException) { /* an unreadable experiment.json is reported below */ }
            string diff;
            try { diff = Differences(stored, json); }
            catch (JsonException) { throw new InvalidDataException($"{SettingsPath}: not valid JSON; it was not written by afm, or was edited. Use another --out folder."); }
            throw new InvalidOperationException(
                $"'{Dir}' holds a comparison with other settings ({diff}). Use another --out folder, or delete it to start over.");
        }
        LabFiles.WriteAtomically(SettingsPath, json);
    }

    /// <summary>The stored settings of the folder (experiment.json), or an <see cref="InvalidDataException"/> naming the file.</summary>
    public ExperimentSettings LoadSettings()
    {
        if (!File.Exists(SettingsPath)) throw new InvalidDataException($"'{Dir}' is not an afm results folder (no experiment.json).");
        return ExperimentSettings.FromJson(File.ReadAllText(SettingsPath), SettingsPath);
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
    public RunResult? TryLoadRun(string arm, int seed) => TryLoad(RunPath(arm, seed), expectedHash: null);

    /// <summary>The unit's stored result if it is complete and was made for exactly this unit (its hash matches), else null.</summary>
    public RunResult? TryLoadUnit(RunUnit unit, string settingsHash) => TryLoad(UnitPath(unit), unit.Hash(settingsHash));

    /// <summary>
    /// What status, summarize and report read: the unit's result if it was made for exactly this unit, or if it carries
    /// no unit stamp at all (written outside any plan). A result stamped for other settings — experiment.json edited
    /// since — is not one (null), rather than being read as if it had run under the current settings.
    /// </summary>
    public RunResult? TryLoadFor(RunUnit unit, string settingsHash) => TryLoad(UnitPath(unit), unit.Hash(settingsHash), acceptUnstamped: true);

    private static RunResult? TryLoad(string path, string? expectedHash, bool acceptUnstamped = false)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length < 2 || !lines[^1].Contains("\"type\":\"end\"")) return null;
            var header = JsonNode.Parse(lines[0]);
            if (expectedHash is not null && header?["unit_hash"]?.GetValue<string>() is var stamp && stamp != expectedHash && !(acceptUnstamped && stamp is null)) return null;
            var end = JsonNode.Parse(lines[^1]);
            var epochs = lines.Skip(1).Take(lines.Length - 2).Select(l => JsonSerializer.Deserialize<EpochMetrics>(l, LabFiles.JsonLine)!).ToList();
            var failure = end?["failed"]?.GetValue<string>() is { } reason ? new RunFailure(reason, end["failed_at_epoch"]?.GetValue<int>() ?? 0) : null;
            double worst = header?["worst_metric"] is JsonValue w && w.TryGetValue<double>(out var wv) ? wv : double.NaN;
            return new RunResult(header!["arm"]!.GetValue<string>(), header["seed"]!.GetValue<int>(), epochs, worst) { Failure = failure };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException) { return null; } // not a finished run: it is rerun
    }

    /// <summary>Writes the unit's result atomically, stamped with the unit's hash and the LibTorch threads it ran with.</summary>
    public void SaveUnit(RunUnit unit, string settingsHash, RunResult run, int threads)
    {
        var sb = new StringBuilder();
        sb.AppendLine(JsonSerializer.Serialize(new
        {
            type = "run", arm = run.Arm, seed = run.Seed, optimizer = unit.Arm.Optimizer, trial = unit.Trial, unit = unit.Index,
            unit_hash = unit.Hash(settingsHash), threads,
            worst_metric = double.IsFinite(run.WorstMetric) ? run.WorstMetric : (double?)null,
        }, LabFiles.JsonLine));
        foreach (var e in run.Epochs) sb.AppendLine(JsonSerializer.Serialize(e, LabFiles.JsonLine));
        sb.AppendLine(JsonSerializer.Serialize(new
        {
            type = "end", diverged = run.Diverged, epochs = run.Epochs.Count, failed = run.Failure?.Reason, failed_at_epoch = run.Failure?.Epoch,
        }, LabFiles.JsonLine));
        LabFiles.WriteAtomically(UnitPath(unit), sb.ToString());
    }
}
