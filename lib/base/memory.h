// memory.h — keeping a long-lived idle process small.
//
// A statically linked binary's code is mapped from its file; starting up
// touches a great deal of it (option parsing, JSON, the HTTP server's setup),
// and the kernel maps neighbouring cached pages too (fault-around), all of
// which then counts in the process's RSS for as long as it lives. A session
// supervisor idles for hours; once it is set up it can let those mappings go.
#pragma once

namespace fracta::memory {

// Unmap the clean, file-backed, read-only pages of this executable (code and
// constants never written to). They are still in the page cache and come back
// on the next touch, byte for byte, so this is safe at any time; mappings
// holding any privately modified page (relocated data) are left alone.
// Best effort: errors are ignored.
void release_clean_code_pages();

}  // namespace fracta::memory
