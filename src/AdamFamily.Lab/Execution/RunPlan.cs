using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// One independent piece of work: train <see cref="Arm"/> with <see cref="Seed"/> under the plan's settings and write
/// one result file. A tuning trial is a unit too: its arm spec carries the trial's hyper-parameters and
/// <see cref="Trial"/> names it. <see cref="Result"/> is relative to the plan's folder.
/// </summary>
public sealed record RunUnit(int Index, ArmSpec Arm, int Seed, string Result, string? Trial = null)
{
    /// <summary>What the unit's result is a function of: the settings (by hash), the arm's label and spec, the seed and the trial.</summary>
    public string Hash(string settingsHash) =>
        RunPlan.Sha256($"{settingsHash}\n{Arm.Name}\n{Arm.Optimizer}\n{Seed}\n{Trial}");

    public string Describe() => $"unit {Index} ({Arm.Name}{(Trial is null ? "" : $", trial {Trial}")}, seed {Seed})";
}

/// <summary>
/// DIR/plan.json: the units of a comparison (or tuning study), each fully determined by the settings file and its
/// index. <see cref="SettingsHash"/> is the SHA-256 of the settings file's content and <see cref="PlanHash"/> of
/// everything else in the plan, so a worker refuses a plan or settings edited after the plan was made.
/// <see cref="ThreadsPerRun"/> is the LibTorch thread count every unit pins, whatever executes it.
/// </summary>
public sealed record RunPlan(string Kind, string SettingsFile, string SettingsHash, int ThreadsPerRun, RunUnit[] Units)
{
    public const string FileName = "plan.json";
    public int Format { get; init; } = 1;
    public string PlanHash { get; init; } = "";

    /// <summary>The comparison's plan: seed-major (seed 0: every arm, then seed 1, ...), so early results already pair up.</summary>
    public static RunPlan ForComparison(ExperimentSettings s, int threadsPerRun)
    {
        var units = new List<RunUnit>();
        foreach (var seed in s.Seeds)
            foreach (var arm in s.Arms)
                units.Add(new RunUnit(units.Count, arm, seed, ResultFileNames.RunFile(arm.Name, seed)));
        return Create("compare", "experiment.json", HashOf(s), threadsPerRun, units);
    }

    /// <summary>A plan over any units (e.g. tuning trials); indices are assigned in order.</summary>
    public static RunPlan Create(string kind, string settingsFile, string settingsHash, int threadsPerRun, IEnumerable<RunUnit> units)
    {
        var list = units.Select((u, i) => u with { Index = i }).ToArray();
        var dupFile = list.GroupBy(u => u.Result, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dupFile is not null) throw new ArgumentException($"two units write the same result file '{dupFile.Key}'.");
        var plan = new RunPlan(kind, settingsFile, settingsHash, threadsPerRun, list);
        return plan with { PlanHash = plan.ComputePlanHash() };
    }

    /// <summary>The hash a settings object is bound by: SHA-256 of its experiment.json text.</summary>
    public static string HashOf(ExperimentSettings s) => Sha256(s.ToJson());

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public string ComputePlanHash() => Sha256(JsonSerializer.Serialize(this with { PlanHash = "" }, LabFiles.JsonLine));

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    /// <summary>Reads a plan file; a corrupt or edited plan is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static RunPlan Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"plan file '{path}' does not exist.", path);
        RunPlan? plan;
        try { plan = JsonSerializer.Deserialize<RunPlan>(File.ReadAllText(path), LabFiles.Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid plan file: {e.Message}", e); }
        if (plan?.Units is null || plan.SettingsFile is null || plan.SettingsHash is null)
            throw new InvalidDataException($"{path}: not a valid plan file (units, settings_file or settings_hash missing).");
        if (plan.Format != 1) throw new InvalidDataException($"{path}: plan format {plan.Format} is not supported by this afm (1).");
        if (plan.ComputePlanHash() != plan.PlanHash)
            throw new InvalidDataException($"{path}: the plan was edited after afm wrote it (its content does not match its plan_hash). Rerun the afm command that made it to rewrite the plan.");
        for (int i = 0; i < plan.Units.Length; i++)
        {
            if (plan.Units[i].Index != i) throw new InvalidDataException($"{path}: unit {i} has index {plan.Units[i].Index}.");
            // A worker writes the unit's result there: it must stay inside the plan's folder, whatever the file says.
            var result = plan.Units[i].Result;
            if (string.IsNullOrWhiteSpace(result) || Path.IsPathRooted(result) || result.Replace('\\', '/').Split('/').Any(part => part is ".." or ""))
                throw new InvalidDataException($"{path}: unit {i}'s result '{result}' is not a file inside the plan's folder.");
        }
        return plan;
    }
}
