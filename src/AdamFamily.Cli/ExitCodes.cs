using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace AdamFamily.Cli;

/// <summary>
/// The one place that decides afm's exit code (README "Exit codes"): 0 success; 1 a check the user asked for
/// failed (parity mismatch, a verdict gate); 2 bad input or usage; 3 an internal error; 4 some run units of
/// compare/tune failed (the rest are kept); 130 interrupted.
/// Commands return 0 or 1 (or 2 for input they reject themselves) and let every exception reach
/// <see cref="Run"/>, which prints one line and never a stack trace unless AFM_DEBUG is set.
/// </summary>
internal static partial class ExitCodes
{
    public const int Success = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;
    public const int InternalError = 3;
    /// <summary>Some run units failed for good (the completed ones are kept; a rerun retries the rest).</summary>
    public const int UnitsFailed = 4;
    public const int Interrupted = 130;

    /// <summary>Parses and runs the command line; maps parse errors and exceptions to exit codes.</summary>
    public static int Run(RootCommand root, string[] args)
    {
        // Ctrl-C: say what happens, then let the runtime end the process as SIGINT does (exit status 130).
        // Every file afm writes is written atomically, so an interrupted command leaves no half file.
        int told = 0;   // once, however many times the signal arrives
        Console.CancelKeyPress += (_, _) =>
        {
            if (Interlocked.Exchange(ref told, 1) == 0)
                Console.Error.WriteLine("afm: interrupted (exit 130); files already written are complete; rerunning the same afm compare or afm tune resumes.");
        };

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Error(Friendly(e.Message));
            var command = parsed.CommandResult.Command;
            Console.Error.WriteLine($"See 'afm {(command is RootCommand ? "" : CommandPath(parsed) + " ")}--help'.");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Prints the one-line message of an exception and returns its exit code.</summary>
    public static int Report(Exception e)
    {
        if (Environment.GetEnvironmentVariable("AFM_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e);
        int code = Classify(e);
        if (code == BadInput) Error(UserMessage(e));
        else if (code == Interrupted) Console.Error.WriteLine("afm: interrupted.");
        else Error($"internal error ({e.GetType().Name}): {FirstLine(e.Message)} — this is a bug in afm; run again with AFM_DEBUG=1 to print the stack trace, and please report it.");
        return code;
    }

    /// <summary>For a command that knows the exception is the user's doing (e.g. a results folder that holds other settings): exit 2.</summary>
    public static int ReportAsBadInput(Exception e)
    {
        if (Environment.GetEnvironmentVariable("AFM_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e);
        Error(UserMessage(e));
        return BadInput;
    }

    /// <summary>The exit code of an exception: what a user can cause is bad input (2); anything else is a bug (3).</summary>
    public static int Classify(Exception e) => e switch
    {
        OperationCanceledException => Interrupted,
        ArgumentException or FormatException or InvalidDataException or JsonException or IOException or UnauthorizedAccessException
            or NonFiniteGradientException => BadInput,
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerException!),
        _ => InternalError,
    };

    /// <summary>The message of an exception a user caused, without .NET's "(Parameter 'x')" and "Actual value was" suffixes.</summary>
    public static string UserMessage(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentException { ParamName: { } p })
        {
            message = message.ReplaceLineEndings("\n");
            int cut = message.IndexOf($" (Parameter '{p}')", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
        }
        return FirstLine(message);
    }

    // Errors go to standard error (red on a terminal), so a script reading standard output never parses one as a result.
    private static readonly Lazy<IAnsiConsole> Stderr = new(() =>
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Ansi = Console.IsErrorRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        });
        if (Console.IsErrorRedirected) console.Profile.Width = 10_000;   // logs: one line per error, never folded
        return console;
    });

    private static void Error(string message) => Stderr.Value.MarkupLine($"[red]error:[/] {Markup.Escape(FirstLine(message))}");

    // ArgumentException appends "(Parameter 'x')" and ArgumentOutOfRangeException "Actual value was ..." on new lines.
    private static string FirstLine(string message)
    {
        var text = message.ReplaceLineEndings("\n");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "" : string.Join(" ", lines.Where(l => !l.StartsWith("Actual value was", StringComparison.Ordinal))).Trim();
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var r = parsed.CommandResult; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return string.Join(" ", names);
    }

    /// <summary>System.CommandLine's type-conversion text rewritten to name the option, the value and what was expected.</summary>
    internal static string Friendly(string message)
    {
        var m = CannotParse().Match(message);
        if (!m.Success) return message;
        string value = m.Groups["value"].Value, option = m.Groups["option"].Value, type = m.Groups["type"].Value;
        string expected = type switch
        {
            var t when t.Contains("Int32") || t.Contains("Int64") => "a whole number",
            var t when t.Contains("Double") || t.Contains("Single") => "a number",
            var t when t.Contains("Boolean") => "true or false",
            _ => "a valid value",
        };
        return $"{option}: '{value}' is not {expected}.";
    }

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for (option|command) '(?<option>[^']*)' as expected type '(?<type>[^']*)'")]
    private static partial Regex CannotParse();
}
