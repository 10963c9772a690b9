using System.Globalization;
using AdamFamily.Rules;

namespace AdamFamily;

/// <summary>How values of one type are read from option strings, printed, checked and stored in checkpoints.</summary>
/// <typeparam name="T">The value type.</typeparam>
public abstract class OptionCodec<T> where T : notnull
{
    /// <summary>Parses option-string text; throws an <see cref="ArgumentException"/> naming the key and the text.</summary>
    public abstract T Parse(string key, string text);
    /// <summary>The value as option-string text.</summary>
    public abstract string Format(T value);
    /// <summary>A check every value of the type must pass (e.g. a registered estimator name); null when it passes.</summary>
    public virtual string? Check(T value) => null;
    internal abstract void Write(BinaryWriter writer, T value);
    internal abstract T Read(BinaryReader reader);
}

/// <summary>The codecs of the option value types.</summary>
internal static class OptionCodecs
{
    public static readonly OptionCodec<double> Double = new DoubleCodec();
    public static readonly OptionCodec<bool> Bool = new BoolCodec();
    public static readonly OptionCodec<string> Estimator = new EstimatorCodec();
    public static readonly OptionCodec<MomentSchedule> Schedule = new ScheduleCodec();
    public static OptionCodec<TEnum> Enum<TEnum>() where TEnum : struct, Enum => new EnumCodec<TEnum>();

    /// <summary>
    /// A codec from a parser (which throws an <see cref="ArgumentException"/> naming the key and text) and a
    /// formatter; checkpoints store the formatted text. For values with aliases or their own syntax.
    /// </summary>
    public static OptionCodec<T> Custom<T>(Func<string, string, T> parse, Func<T, string> format, Func<T, string?>? check = null) where T : notnull
        => new CustomCodec<T>(parse, format, check);

    private sealed class CustomCodec<T>(Func<string, string, T> parse, Func<T, string> format, Func<T, string?>? check) : OptionCodec<T> where T : notnull
    {
        public override T Parse(string key, string text) => parse(key, text);
        public override string Format(T value) => format(value);
        public override string? Check(T value) => check?.Invoke(value);
        internal override void Write(BinaryWriter writer, T value) => writer.Write(format(value));
        internal override T Read(BinaryReader reader) => parse("value", reader.ReadString());
    }

    /// <summary>A number in invariant culture ("1e-3", "0.9"); the whole text must be the number.</summary>
    public static double ParseNumber(string key, string text)
        => double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
           : throw new ArgumentException($"{key} = '{text}' is not a number.", key);

    /// <summary>The shortest text that parses back to <paramref name="d"/>, with a lower-case exponent ("1e-8").</summary>
    public static string FormatNumber(double d)
        => d.ToString("R", CultureInfo.InvariantCulture).Replace("E-0", "e-").Replace("E+0", "e+").Replace("E-", "e-").Replace("E+", "e+");

    private sealed class DoubleCodec : OptionCodec<double>
    {
        public override double Parse(string key, string text) => ParseNumber(key, text);
        public override string Format(double value) => FormatNumber(value);
        internal override void Write(BinaryWriter writer, double value) => writer.Write(value);
        internal override double Read(BinaryReader reader) => reader.ReadDouble();
    }

    private sealed class BoolCodec : OptionCodec<bool>
    {
        public override bool Parse(string key, string text) => text.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new ArgumentException($"{key} = '{text}' is not true/false.", key),
        };
        public override string Format(bool value) => value ? "true" : "false";
        internal override void Write(BinaryWriter writer, bool value) => writer.Write(value);
        internal override bool Read(BinaryReader reader) => reader.ReadBoolean();
    }

    private sealed class EnumCodec<TEnum> : OptionCodec<TEnum> where TEnum : struct, Enum
    {
        public override TEnum Parse(string key, string text)
            => System.Enum.TryParse<TEnum>(text.Trim().Replace("-", "").Replace("_", ""), ignoreCase: true, out var e) && System.Enum.IsDefined(e)
               && !int.TryParse(text.Trim(), out _) ? e
               : throw new ArgumentException($"{key} = '{text}' is not one of: {string.Join(", ", System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}.", key);
        public override string Format(TEnum value) => value.ToString().ToLowerInvariant();
        public override string? Check(TEnum value) => System.Enum.IsDefined(value) ? null : $"is not one of: {string.Join(", ", System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}";
        internal override void Write(BinaryWriter writer, TEnum value) => writer.Write(Format(value));
        internal override TEnum Read(BinaryReader reader) => Parse("value", reader.ReadString());
    }

    private sealed class EstimatorCodec : OptionCodec<string>
    {
        public override string Parse(string key, string text)
        {
            var name = text.Trim().ToLowerInvariant();
            if (name == "none" || SecondMoments.Names.Contains(name, StringComparer.OrdinalIgnoreCase)) return name;
            throw new ArgumentException($"{key} = '{text}' is not a second-moment estimator. Valid: {string.Join(", ", SecondMoments.Names)}, none.", key);
        }
        public override string Format(string value) => value;
        public override string? Check(string value)
            => value.Equals("none", StringComparison.OrdinalIgnoreCase) || SecondMoments.Names.Contains(value, StringComparer.OrdinalIgnoreCase)
               ? null : $"must be one of {string.Join(", ", SecondMoments.Names)}, none";
        internal override void Write(BinaryWriter writer, string value) => writer.Write(value);
        internal override string Read(BinaryReader reader) => Parse("estimator", reader.ReadString());
    }

    private sealed class ScheduleCodec : OptionCodec<MomentSchedule>
    {
        public override MomentSchedule Parse(string key, string text) => MomentSchedule.Parse(text, key);
        public override string Format(MomentSchedule value) => value.ToString();
        public override string? Check(MomentSchedule value) => value.Kind switch
        {
            MomentScheduleKind.Constant or MomentScheduleKind.LrTied => null,
            MomentScheduleKind.Diminishing when value.T > 0 && double.IsFinite(value.T) && value.P >= 0 && double.IsFinite(value.P) => null,
            MomentScheduleKind.Diminishing => "needs a finite T > 0 and a finite p ≥ 0",
            _ => "is not constant, lr-tied or diminishing",
        };
        internal override void Write(BinaryWriter writer, MomentSchedule value) => writer.Write(value.ToString());
        internal override MomentSchedule Read(BinaryReader reader) => MomentSchedule.Parse(reader.ReadString(), "schedule");
    }
}
