#include "agent/config/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

struct TokenizeCase {
  std::string name;
  std::string line;
  std::vector<std::string> words;
};

void PrintTo(const TokenizeCase& c, std::ostream* os) {
  *os << c.name << ": " << ::testing::PrintToString(c.line);
}

class TokenizeWordsTest : public ::testing::TestWithParam<TokenizeCase> {};

// The environment every case sees: $HOME, $PORT and $LIST are set, $EMPTY is "", $UNSET is not.
EnvLookup testEnv() {
  return fakeEnv(
      {{"HOME", "/home/lb"}, {"PORT", "8080"}, {"EMPTY", ""}, {"A_1", "x"}, {"LIST", "one  two"}});
}

TEST_P(TokenizeWordsTest, SplitsLikeHaproxy) {
  const auto& c = GetParam();
  std::string error;
  auto words = tokenize(c.line, testEnv(), &error);
  ASSERT_TRUE(words.has_value()) << error;
  EXPECT_THAT(*words, ElementsAreArray(c.words));
}

INSTANTIATE_TEST_SUITE_P(
    Words, TokenizeWordsTest,
    ::testing::Values(
        TokenizeCase{"Empty", "", {}}, TokenizeCase{"OnlyBlanks", " \t  ", {}},
        TokenizeCase{"Simple", "bind *:80", {"bind", "*:80"}},
        TokenizeCase{
            "BlanksAndTabs", "\t  server  s1\t10.0.0.1:80   ", {"server", "s1", "10.0.0.1:80"}},
        TokenizeCase{"CarriageReturnOfCrlfFile", "bind *:80\r", {"bind", "*:80"}},
        // Quoting
        TokenizeCase{
            "DoubleQuotesGroupWords", "description \"two words\"", {"description", "two words"}},
        TokenizeCase{
            "SingleQuotesGroupWords", "description 'two  words'", {"description", "two  words"}},
        TokenizeCase{"QuotesJoinAdjacentText", "a\"b c\"d'e f'g", {"ab cde fg"}},
        TokenizeCase{"EmptyDoubleQuotedWord", "a \"\" b", {"a", "", "b"}},
        TokenizeCase{"EmptySingleQuotedWord", "''", {""}},
        TokenizeCase{
            "SingleQuotesAreLiteral", "'a\\nb \\x41 $HOME \"q\"'", {"a\\nb \\x41 $HOME \"q\""}},
        TokenizeCase{"SingleQuoteInsideDoubleQuotes", "\"it's\"", {"it's"}},
        TokenizeCase{"DoubleQuoteInsideSingleQuotes", "'say \"hi\"'", {"say \"hi\""}},
        // Backslash escapes, outside and inside double quotes
        TokenizeCase{"EscapedSpace", "Host:\\ www", {"Host: www"}},
        TokenizeCase{"EscapedHash", "\\#not-a-comment", {"#not-a-comment"}},
        TokenizeCase{"EscapedDoubleQuote", "\\\"", {"\""}},
        TokenizeCase{"EscapedSingleQuote", "\\'", {"'"}},
        TokenizeCase{"EscapedBackslash", "a\\\\b", {"a\\b"}},
        TokenizeCase{"ControlEscapes", "\\r\\n\\t", {"\r\n\t"}},
        TokenizeCase{"HexEscapes", "\\x41\\x7e\\x0D\\x0a", {"A~\r\n"}},
        TokenizeCase{
            "EscapesInDoubleQuotes", "\"a\\tb \\\"c\\\" \\\\ \\x21\"", {"a\tb \"c\" \\ !"}},
        TokenizeCase{"HttpchkHeader",
                     "option httpchk GET / HTTP/1.1\\r\\nHost:\\ a",
                     {"option", "httpchk", "GET", "/", "HTTP/1.1\r\nHost: a"}},
        // Environment variables: in double quotes only
        TokenizeCase{"EnvVar", "\"$HOME\"", {"/home/lb"}},
        TokenizeCase{"EnvVarBraced", "\"${PORT}0\"", {"80800"}},
        TokenizeCase{"EnvVarNameEndsAtNonNameChar", "\"*:$PORT/x\"", {"*:8080/x"}},
        TokenizeCase{"EnvVarWithDigitsAndUnderscore", "\"$A_1\"", {"x"}},
        TokenizeCase{"EnvVarNameIsGreedy", "\"$PORTX\"", {""}},
        TokenizeCase{"UnsetEnvVarIsEmpty", "a \"${UNSET}\" b", {"a", "", "b"}},
        TokenizeCase{"EmptyEnvVar", "\"x${EMPTY}y\"", {"xy"}},
        TokenizeCase{
            "EnvVarInsideLongerWord", "bind \"${HOME}:${PORT}\"", {"bind", "/home/lb:8080"}},
        TokenizeCase{"NoEnvVarOutsideQuotes", "$HOME ${PORT}", {"$HOME", "${PORT}"}},
        TokenizeCase{"NoEnvVarInSingleQuotes", "'$HOME' '${PORT}'", {"$HOME", "${PORT}"}},
        TokenizeCase{"EscapedDollarInDoubleQuotes", "\"\\$HOME\"", {"$HOME"}},
        TokenizeCase{"EnvVarDefault", "\"${UNSET-a b}\" \"${PORT-1}\"", {"a b", "8080"}},
        TokenizeCase{"EnvVarDefaultNotForEmpty", "\"x${EMPTY-d}y\"", {"xy"}},
        TokenizeCase{"EnvVarWordExpansion", "a \"${LIST[*]}\" b", {"a", "one", "two", "b"}},
        TokenizeCase{"DollarOutsideQuotesIsLiteral", "cost $ 5 $1", {"cost", "$", "5", "$1"}},
        TokenizeCase{"EscapedDollarOutsideQuotesKeepsTheBackslash", "\\$HOME", {"\\$HOME"}},
        TokenizeCase{"OtherBackslashesAreKept", "a\\1 \\q", {"a\\1", "\\q"}},
        TokenizeCase{"BackslashAtEndOfLineIsKept", "server s1 \\", {"server", "s1", "\\"}},
        TokenizeCase{"CarriageReturnEndsTheLine", "a b\rc d", {"a", "b"}},
        // Comments
        TokenizeCase{"CommentLine", "# a comment", {}},
        TokenizeCase{"IndentedCommentLine", "    # a comment \"with quotes", {}},
        TokenizeCase{"CommentAfterWords", "maxconn 100 # the limit", {"maxconn", "100"}},
        TokenizeCase{"HashEndsAWord", "maxconn 100#limit", {"maxconn", "100"}},
        TokenizeCase{"HashInDoubleQuotes", "\"# not a comment\"", {"# not a comment"}},
        TokenizeCase{"HashInSingleQuotes", "'#x' y", {"#x", "y"}}),
    [](const ::testing::TestParamInfo<TokenizeCase>& info) { return info.param.name; });

struct BadLineCase {
  std::string name;
  std::string line;
  std::string error;  // a part of the message
};

void PrintTo(const BadLineCase& c, std::ostream* os) {
  *os << c.name << ": " << ::testing::PrintToString(c.line);
}

class TokenizeErrorTest : public ::testing::TestWithParam<BadLineCase> {};

TEST_P(TokenizeErrorTest, ReportsWhatIsWrong) {
  const auto& c = GetParam();
  std::string error;
  auto words = tokenize(c.line, testEnv(), &error);
  EXPECT_FALSE(words.has_value());
  EXPECT_THAT(error, HasSubstr(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, TokenizeErrorTest,
    ::testing::Values(
        BadLineCase{"UnterminatedDoubleQuote", "description \"no end", "unterminated double quote"},
        BadLineCase{"UnterminatedSingleQuote", "description 'no end", "unterminated single quote"},
        BadLineCase{"HashDoesNotEndAQuote", "\"a # b", "unterminated double quote"},
        BadLineCase{"LoneDollarInDoubleQuotes", "\"$\"", "forbidden first char"},
        BadLineCase{"DollarBeforeBlankInDoubleQuotes", "\"a$ b\"", "position 4"},
        BadLineCase{"DollarAtEndOfRegex", "rstring \"^maint.*$\"", "forbidden first char"},
        BadLineCase{"UnknownInternalVariable", "\"$.NOPE\"", "internal variable"},
        BadLineCase{"BadWordExpansion", "\"${X[1]}\"", "word expansion"},
        BadLineCase{"HexEscapeWithoutDigits", "\\xZZ", "two hexadecimal digits"},
        BadLineCase{"HexEscapeCutShort", "\\x4", "two hexadecimal digits"},
        BadLineCase{"UnterminatedBracedEnvVar", "\"${HOME\"", "unmatched brace"}),
    [](const ::testing::TestParamInfo<BadLineCase>& info) { return info.param.name; });

TEST(TokenizeTest, ProcessEnvReadsTheEnvironment) {
  ::setenv("LB_TOKENIZER_TEST_VAR", "from-env", 1);
  std::string error;
  auto words = tokenize("\"$LB_TOKENIZER_TEST_VAR\"", processEnv(), &error);
  ::unsetenv("LB_TOKENIZER_TEST_VAR");
  ASSERT_TRUE(words.has_value()) << error;
  EXPECT_THAT(*words, ElementsAreArray({"from-env"}));
}

// The parser reports a tokenizer error with the line it is on, and goes on with the next line.
TEST(TokenizeTest, ParserReportsTokenizerErrorsWithTheirLine) {
  auto out = parseHaproxy(
      "backend b\n"
      "    description \"never closed\n"
      "    retries 5\n"
      "    description 'also open\n");
  EXPECT_THAT(out.diagnostics.all(),
              ::testing::ElementsAre(errorAt(2, {"unterminated double quote"}),
                                     errorAt(4, {"unterminated single quote"})));
  ASSERT_EQ(out.config.backends_size(), 1);
  EXPECT_EQ(out.config.backends(0).retries(), 5u);
}

TEST(TokenizeTest, ParserExpandsEnvironmentVariablesFromLoadOptions) {
  auto out = parseHaproxy(
      "frontend web\n"
      "    bind \"${LISTEN_ADDR}:${LISTEN_PORT}\"\n"
      "    bind '${LISTEN_ADDR}:81'\n",
      fakeEnv({{"LISTEN_ADDR", "10.1.2.3"}, {"LISTEN_PORT", "8443"}}));
  ASSERT_EQ(out.config.frontends_size(), 1);
  const auto& fe = out.config.frontends(0);
  ASSERT_EQ(fe.binds_size(), 2);
  EXPECT_EQ(fe.binds(0).address(), "10.1.2.3");
  EXPECT_EQ(fe.binds(0).port(), 8443u);
  // Single quotes keep "${LISTEN_ADDR}" as a word, but HAProxy expands variables in every
  // address it reads (str2sa_range), quoted or not.
  EXPECT_EQ(fe.binds(1).address(), "10.1.2.3");
  EXPECT_EQ(fe.binds(1).port(), 81u);
  EXPECT_TRUE(out.diagnostics.all().empty()) << out.diagnostics.format();
}

TEST(TokenizeTest, LoadUsesTheEnvOfLoadOptions) {
  auto result = loadText(
      "frontend web\n"
      "    bind \"*:$PORT\"\n"
      "    timeout client 5s\n"
      "    default_backend app\n"
      "backend app\n"
      "    timeout connect 5s\n"
      "    timeout server 5s\n"
      "    server s1 10.0.0.1:80\n",
      nullptr, fakeEnv({{"PORT", "9000"}}));
  ASSERT_TRUE(result.ok()) << result.diagnostics.format();
  EXPECT_EQ(result.config.frontends(0).binds(0).port(), 9000u);
}

}  // namespace
}  // namespace lb::config
