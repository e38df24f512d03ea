/* cgroupv2 paths and ids for "socket cgroupv2 level N PATH": nft reads a path below
 * /sys/fs/cgroup as the cgroup's inode number, and prints a number back as the first path
 * it finds with that inode (a walk of the whole tree, in directory order), else as the
 * number. cnet does the same, so that both list a rule alike. */
#define _GNU_SOURCE
#include "nftrule/nr_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

int nr_cgroup_id(const char *path, uint64_t *id, char *why, size_t wsize) {
  char full[4096];
  struct stat st;
  if ((size_t)snprintf(full, sizeof full, "%s/%s", CGROUP_ROOT, path) >= sizeof full) {
    snprintf(why, wsize, "cgroupv2 path too long");
    return -1;
  }
  if (stat(full, &st) < 0) {
    snprintf(why, wsize, "cgroupv2 path fails: %s", strerror(errno));
    return -1;
  }
  *id = (uint64_t)st.st_ino;
  return 0;
}

/* depth first, as nft walks: an entry with the inode, else what is below each directory */
static int walk(const char *dir, uint64_t id, char *out, size_t size, int depth) {
  DIR *d = opendir(dir);
  if (d == NULL || depth > 64) {
    if (d) closedir(d);
    return -1;
  }
  struct dirent *de;
  int rc = -1;
  while (rc < 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) continue;
    if ((uint64_t)de->d_ino == id) {
      snprintf(out, size, "%s", path + strlen(CGROUP_ROOT) + 1);
      rc = 0;
      break;
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = walk(path, id, out, size, depth + 1);
  }
  closedir(d);
  return rc;
}

int nr_cgroup_path(uint64_t id, char *out, size_t size) {
  return walk(CGROUP_ROOT, id, out, size, 0);
}
