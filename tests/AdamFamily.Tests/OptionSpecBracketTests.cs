namespace AdamFamily.Tests;

/// <summary>Optimizers.ParseSpec: a stray or unclosed bracket used to swallow the rest of the string, so "lr=0.5)" trained at the default lr.</summary>
public class OptionSpecBracketTests
{
    [Theory]
    [InlineData("lr=0.5)")]
    [InlineData("lr=0.5],eps=1e-8")]
    [InlineData("betas=(0.9,0.99")]
    [InlineData("lr=1e-3,betas=((0.9,0.99)")]
    public void UnbalancedBrackets_AreRefused(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => Optimizers.ParseSpec(spec));
        Assert.Contains(spec, e.Message);
        Assert.Throws<ArgumentException>(() => Optimizers.Create("adamd", Fixture.Parameters(), spec));
    }

    [Fact]
    public void BalancedBrackets_StillGroupCommas()
    {
        var pairs = Optimizers.ParseSpec("betas=(0.9,0.99),lr=0.5");
        Assert.Equal(new[] { "betas", "lr" }, pairs.Select(p => p.Key));
        Assert.Equal("(0.9,0.99)", pairs[0].Value);
    }
}
