/*
 * tiles.c -- the public tile renderer: the themes of a styles directory,
 * the database source and one render scratch, behind tgis_tiles_*().
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tgis_int.h"
#include "render.h"
#include "source_db.h"
#include "tiles_int.h"

#define MAX_THEMES 32

struct tgis_tiles {
  tgis_ctx *ctx;
  tgis_style *themes[MAX_THEMES];
  size_t n_themes;
  int borrowed;                   /* themes belong to the caller (shared) */
  tgis_source_db *src;
  tgis_render_scratch *scratch;
};

static int is_dir(const char *p)
{
  struct stat sb;
  return p && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

const char *tgis_tiles__default_dir(const char *what)
{
  /* An installed tgis finds its data under the prefix; one run from its
   * build tree finds the source tree's. */
  if (strcmp(what, "styles") == 0)
    return is_dir(TGIS_INSTALLED_DATA_DIR "/styles") ? TGIS_INSTALLED_DATA_DIR "/styles"
                                                     : TGIS_SOURCE_DATA_DIR "/styles";
  if (strcmp(what, "viewer") == 0)
    return is_dir(TGIS_INSTALLED_DATA_DIR "/viewer") ? TGIS_INSTALLED_DATA_DIR "/viewer"
                                                     : TGIS_SOURCE_TREE_DIR "/tiles/viewer";
  if (strcmp(what, "vendor") == 0)
    return is_dir(TGIS_INSTALLED_DATA_DIR "/vendor") ? TGIS_INSTALLED_DATA_DIR "/vendor"
                                                     : TGIS_SOURCE_TREE_DIR "/node_modules";
  return NULL;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

tgis_status tgis_tiles__load_themes(tgis_ctx *ctx, const char *dir, tgis_style **themes,
                                    size_t max, size_t *n)
{
  DIR *d;
  struct dirent *e;
  char *names[MAX_THEMES];
  size_t n_names = 0;
  tgis_status st = TGIS_OK;

  *n = 0;
  if (!(d = opendir(dir)))
    return tgis__fail(ctx, TGIS_ENOTFOUND, "%s: no styles directory", dir);
  while ((e = readdir(d)) && n_names < MAX_THEMES && n_names < max) {
    size_t len = strlen(e->d_name);
    if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 && e->d_name[0] != '.')
      if (!(names[n_names++] = tgis__strdup(ctx, e->d_name))) {
        st = TGIS_ENOMEM;
        n_names--;
        break;
      }
  }
  closedir(d);
  qsort(names, n_names, sizeof names[0], by_name);
  for (size_t i = 0; i < n_names && st == TGIS_OK; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if ((st = tgis_style_load(&themes[*n], ctx, path)) == TGIS_OK)
      (*n)++;
  }
  for (size_t i = 0; i < n_names; i++)
    tgis__free(ctx, names[i]);
  if (st == TGIS_OK && *n == 0)
    st = tgis__fail(ctx, TGIS_ENOTFOUND, "%s: no *.yaml themes", dir);
  if (st != TGIS_OK) {
    for (size_t i = 0; i < *n; i++)
      tgis_style_free(themes[i]);
    *n = 0;
  }
  return st;
}

/* A renderer without themes yet: source and scratch on ctx. */
static tgis_status tiles_new(tgis_tiles **out, tgis_ctx *ctx)
{
  tgis_tiles *t;
  tgis_status st;

  *out = NULL;
  if (!(t = tgis__calloc(ctx, 1, sizeof *t)))
    return TGIS_ENOMEM;
  t->ctx = ctx;
  if ((st = tgis_source_db_new(&t->src, ctx)) != TGIS_OK ||
      (st = tgis_render_scratch_new(&t->scratch, ctx)) != TGIS_OK) {
    tgis_tiles_close(t);
    return st;
  }
  *out = t;
  return TGIS_OK;
}

tgis_status tgis_tiles_open(tgis_tiles **out, tgis_ctx *ctx, const char *styles_dir)
{
  tgis_status st;

  if ((st = tiles_new(out, ctx)) != TGIS_OK)
    return st;
  if ((st = tgis_tiles__load_themes(ctx, styles_dir ? styles_dir : tgis_tiles__default_dir("styles"),
                                    (*out)->themes, MAX_THEMES, &(*out)->n_themes)) != TGIS_OK) {
    tgis_tiles_close(*out);
    *out = NULL;
  }
  return st;
}

tgis_status tgis_tiles__open_shared(tgis_tiles **out, tgis_ctx *ctx,
                                    tgis_style *const *themes, size_t n)
{
  tgis_status st;

  if (n > MAX_THEMES)
    return tgis__fail(ctx, TGIS_EINVAL, "%zu themes, at most %d", n, MAX_THEMES);
  if ((st = tiles_new(out, ctx)) != TGIS_OK)
    return st;
  memcpy((*out)->themes, themes, n * sizeof *themes);
  (*out)->n_themes = n;
  (*out)->borrowed = 1;
  return TGIS_OK;
}

void tgis_tiles_close(tgis_tiles *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n_themes && !t->borrowed; i++)
    tgis_style_free(t->themes[i]);
  tgis_render_scratch_free(t->scratch);
  tgis_source_db_free(t->src);
  tgis__free(t->ctx, t);
}

size_t tgis_tiles_theme_count(const tgis_tiles *t)
{
  return t->n_themes;
}

const char *tgis_tiles_theme_name(const tgis_tiles *t, size_t i)
{
  return i < t->n_themes ? t->themes[i]->name : NULL;
}

const tgis_style *tgis_tiles__theme(const tgis_tiles *t, const char *name)
{
  for (size_t i = 0; i < t->n_themes; i++)
    if (strcmp(t->themes[i]->name, name) == 0)
      return t->themes[i];
  return NULL;
}

tgis_render_scratch *tgis_tiles__scratch(tgis_tiles *t)
{
  return t->scratch;
}

tgis_ctx *tgis_tiles__ctx(tgis_tiles *t)
{
  return t->ctx;
}

tgis_source_db *tgis_tiles__source(tgis_tiles *t)
{
  return t->src;
}

tgis_status tgis_tiles_render(tgis_tiles *t, const char *theme, int z, int x, int y,
                              int scale, unsigned char **png, size_t *png_len)
{
  const tgis_style *style = tgis_tiles__theme(t, theme);
  tgis_render_options ro = TGIS_RENDER_OPTIONS_INIT;
  tgis_tile_source src = tgis_source_db_source(t->src);

  *png = NULL;
  *png_len = 0;
  if (!style)
    return tgis__fail(t->ctx, TGIS_ENOTFOUND, "no theme '%s'", theme);
  if (scale != 1 && scale != 2)
    return tgis__fail(t->ctx, TGIS_EINVAL, "scale %d: must be 1 or 2", scale);
  ro.scale = scale;
  return tgis_render_tile_png(png, png_len, t->scratch, style, &src, z, x, y, &ro, NULL);
}

void tgis_free(tgis_ctx *ctx, void *p)
{
  tgis__free(ctx, p);
}
