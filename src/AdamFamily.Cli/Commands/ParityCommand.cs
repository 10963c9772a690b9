using System.CommandLine;
using AdamFamily.Golden;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm parity FILE...</c>: replays every case of trajectory files (docs/golden-format.md) through the
/// library and reports the largest errors; exits 1 if any case is out of tolerance, 2 on a bad file.
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
            foreach (var file in r.GetValue(files)!)
            {
                IReadOnlyList<TrajectoryCase> cases;
                try { cases = TrajectoryFile.Load(file); }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                    return 2;
                }
                var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(file));
                foreach (var c in new[] { "case", "steps", "max abs err", "max rel err", "err/tolerance", "result" }) table.AddColumn(c);
                foreach (var tc in cases)
                {
                    ParityResult res;
                    try { res = ParityRunner.Run(tc, path); }
                    catch (Exception e) when (e is ArgumentException or InvalidDataException or ArithmeticException)
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
            return failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
