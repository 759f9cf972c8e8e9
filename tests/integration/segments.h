#pragma once

#include <cstdint>

namespace lb::testing {

// Segments a connected socket has received so far (TCP_INFO's tcpi_segs_in): how tests see
// that an ACK rode on data or on a FIN instead of travelling alone.
uint32_t segmentsIn(int fd);

}  // namespace lb::testing
