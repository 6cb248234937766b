#include "base/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fracta::memory {

void release_clean_code_pages() {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    FILE* smaps = std::fopen("/proc/self/smaps", "re");
    if (!smaps) return;
    // Each mapping: a header line "start-end perms offset dev inode path",
    // then "Key: value kB" lines, among them "Anonymous:" (privately modified).
    char line[4608];
    unsigned long start = 0, end = 0;
    bool candidate = false;
    auto release = [&] {
        if (candidate) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
        candidate = false;
    };
    while (std::fgets(line, sizeof line, smaps)) {
        char perms[8] = {0};
        unsigned long s = 0, e = 0;
        int path_at = 0;
        if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &path_at) >= 3 && path_at > 0) {
            release();  // the previous mapping turned out clean
            std::string path = line + path_at;
            while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
            start = s;
            end = e;
            candidate = path == exe && std::strchr(perms, 'w') == nullptr && perms[3] == 'p';
            continue;
        }
        unsigned long kb = 0;
        if (candidate && std::sscanf(line, "Anonymous: %lu kB", &kb) == 1 && kb != 0) candidate = false;
    }
    release();
    std::fclose(smaps);
}

}  // namespace fracta::memory
