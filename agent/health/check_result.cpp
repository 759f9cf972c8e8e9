#include "agent/health/check_result.h"

namespace lb::health {

const char* statusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kL4Ok:
      return "L4OK";
    case CheckStatus::kL4Tout:
      return "L4TOUT";
    case CheckStatus::kL4Con:
      return "L4CON";
    case CheckStatus::kL6Ok:
      return "L6OK";
    case CheckStatus::kL6Tout:
      return "L6TOUT";
    case CheckStatus::kL6Rsp:
      return "L6RSP";
    case CheckStatus::kL7Ok:
      return "L7OK";
    case CheckStatus::kL7Okc:
      return "L7OKC";
    case CheckStatus::kL7Tout:
      return "L7TOUT";
    case CheckStatus::kL7Rsp:
      return "L7RSP";
    case CheckStatus::kL7Sts:
      return "L7STS";
    case CheckStatus::kHana:
      return "HANA";
    case CheckStatus::kSockErr:
      return "SOCKERR";
  }
  return "?";
}

const char* statusDescription(CheckStatus status) {
  switch (status) {
    case CheckStatus::kL4Ok:
      return "Layer4 check passed";
    case CheckStatus::kL4Tout:
      return "Layer4 timeout";
    case CheckStatus::kL4Con:
      return "Layer4 connection problem";
    case CheckStatus::kL6Ok:
      return "Layer6 check passed";
    case CheckStatus::kL6Tout:
      return "Layer6 timeout";
    case CheckStatus::kL6Rsp:
      return "Layer6 invalid response";
    case CheckStatus::kL7Ok:
      return "Layer7 check passed";
    case CheckStatus::kL7Okc:
      return "Layer7 check conditionally passed";
    case CheckStatus::kL7Tout:
      return "Layer7 timeout";
    case CheckStatus::kL7Rsp:
      return "Layer7 invalid response";
    case CheckStatus::kL7Sts:
      return "Layer7 wrong status";
    case CheckStatus::kHana:
      return "Health analyze";
    case CheckStatus::kSockErr:
      return "Socket error";
  }
  return "?";
}

}  // namespace lb::health
