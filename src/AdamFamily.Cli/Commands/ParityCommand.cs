using System.CommandLine;
using AdamFamily.Golden;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm parity FILE...</c>: replays every case of trajectory files (docs/golden-format.md) through the
/// library and reports the largest errors; exits 1 if any case is out of tolerance, 2 on a bad file (unreadable,
/// no cases, a case without steps or parameters, options the library refuses). Every file is read and checked
/// before any case runs.
/// </summary>
internal static class ParityCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "Trajectory files in the golden format (JSON).", Arity = ArgumentArity.OneOrMore };
        var tensorOps = new Option<bool>("--tensor-ops") { Description = "Use the tensor-op reference path instead of the fused CPU kernel." };
        var cmd = new Command("parity", "Check the library against reference trajectories (e.g. exported from PyTorch).") { files, tensorOps };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(tensorOps) ? ExecutionPath.TensorOps : ExecutionPath.Auto;
            var results = new List<ParityResult>();
            var loaded = r.GetValue(files)!.Select(file => (File: file, Cases: Check(file,
                Directory.Exists(file) ? throw new IOException($"'{file}' is a folder; give trajectory files (JSON).") : TrajectoryFile.Load(file)))).ToList();
            foreach (var (file, cases) in loaded)
            {
                var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(file));
                foreach (var c in new[] { "case", "steps", "max abs err", "max rel err", "err/tolerance", "result" }) table.AddColumn(c);
                foreach (var tc in cases)
                {
                    ParityResult res;
                    try { res = ParityRunner.Run(tc, path); }
                    catch (ArgumentException e) { throw new InvalidDataException($"'{file}' case '{tc.Name}': {ExitCodes.UserMessage(e)}", e); }
                    catch (ArithmeticException e)   // e.g. a non-finite value met in the replay: the case fails
                    {
                        res = new ParityResult(tc.Name, 0, double.NaN, double.NaN, double.NaN, false, e.Message);
                    }
                    results.Add(res);
                    table.AddRow(Markup.Escape(res.Case), res.Steps.ToString(), $"{res.MaxAbsError:E2}", $"{res.MaxRelError:E2}", $"{res.WorstToleranceRatio:G3}",
                        res.Passed ? "[green]pass[/]" : $"[red]FAIL[/]{(res.Error is null ? "" : " " + Markup.Escape(res.Error))}");
                }
                AnsiConsole.Write(table);
            }
            int failed = results.Count(x => !x.Passed);
            Console.WriteLine($"parity: {results.Count - failed} passed, {failed} failed");
            return failed == 0 ? ExitCodes.Success : ExitCodes.CheckFailed;
        });
        return cmd;
    }

    /// <summary>A file that checks nothing is an error, not a pass: no cases, a case with no steps or no parameters.</summary>
    private static IReadOnlyList<TrajectoryCase> Check(string file, IReadOnlyList<TrajectoryCase> cases)
    {
        if (cases.Count == 0) throw new InvalidDataException($"'{file}': no cases (the 'cases' array is empty); a parity check needs at least one.");
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            string name = $"'{file}' case {i} ('{c.Name}')";
            if (string.IsNullOrWhiteSpace(c.Name)) throw new InvalidDataException($"'{file}' case {i}: no name.");
            try { _ = c.Preset; }   // an optimizer the library does not have is a bad file, not a failed check
            catch (InvalidDataException e) { throw new InvalidDataException($"'{file}' {e.Message}", e); }
            if (c.Steps == 0) throw new InvalidDataException($"{name}: 0 steps (empty 'grads'); a case must check at least one step.");
            if (c.Shapes.Length == 0) throw new InvalidDataException($"{name}: no parameters (empty 'shapes').");
            if (c.Shapes.Any(sh => sh.Any(d => d < 0))) throw new InvalidDataException($"{name}: a negative dimension in 'shapes'.");
            if (c.Lrs.Any(lr => !double.IsFinite(lr))) throw new InvalidDataException($"{name}: a non-finite learning rate in 'lrs'.");
            // The replay takes each step's lr from 'lrs'; an options.lr that says otherwise would be silently ignored.
            foreach (var (key, value) in c.Options.Where(kv => kv.Key.Trim().Equals("lr", StringComparison.OrdinalIgnoreCase)))
                if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var lr) || lr != c.Lrs[0])
                    throw new InvalidDataException($"{name}: options.lr = '{value}' disagrees with lrs[0] = {c.Lrs[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} (the replay uses 'lrs').");
        }
        var dup = cases.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidDataException($"'{file}': case name '{dup.Key}' is used {dup.Count()} times.");
        return cases;
    }
}
