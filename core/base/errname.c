/* errno values by name, for error objects that match by code rather than number. */
#include "cnet/errname.h"

#include <errno.h>

#define NAMES(X)                                                                          \
  X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(EBADF) X(ECHILD)       \
  X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV)          \
  X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOSPC) X(ESPIPE) X(EROFS)        \
  X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOSYS) X(ENOTEMPTY) \
  X(ELOOP) X(ENOMSG) X(ENODATA) X(ETIME) X(EPROTO) X(EBADMSG) X(EOVERFLOW) X(EILSEQ)     \
  X(ENOTSOCK) X(EDESTADDRREQ) X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT)                   \
  X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT) X(EADDRINUSE) X(EADDRNOTAVAIL)        \
  X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS)       \
  X(EISCONN) X(ENOTCONN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN) X(EHOSTUNREACH)      \
  X(EALREADY) X(EINPROGRESS) X(ERESTART) X(ECANCELED)

#define CASE(e) case e: return #e;

const char *cnet_errname(int err) {
  if (err < 0) err = -err;
  switch (err) {
    NAMES(CASE)
    default: return "EUNKNOWN";
  }
}
