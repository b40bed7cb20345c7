#ifndef MLCORE_CIMAGECODECS_SHIM_H
#define MLCORE_CIMAGECODECS_SHIM_H
/* JPEG (libjpeg-turbo, libjpeg API) and PNG (libpng's simplified API) decoding to 8-bit RGB.
   libjpeg reports errors by calling error_exit, which must not return: it longjmps back here, which
   Swift cannot do, hence these two small C functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <png.h>

struct mlcore_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void mlcore_jpeg_error_exit(j_common_ptr cinfo) {
    struct mlcore_jpeg_error *e = (struct mlcore_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void mlcore_jpeg_silence(j_common_ptr cinfo, int level) { (void)cinfo; (void)level; }

/* Decodes a JPEG held in memory into a malloc'd RGB buffer (width*height*3 bytes, row-major);
   NULL on failure with the reason in message. The caller frees the buffer. */
static inline unsigned char *mlcore_jpeg_decode(const unsigned char *data, unsigned long size, int *width,
                                                int *height, char *message, int message_size) {
    struct jpeg_decompress_struct cinfo;
    struct mlcore_jpeg_error err;
    unsigned char *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = mlcore_jpeg_error_exit;
    err.pub.emit_message = mlcore_jpeg_silence;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        snprintf(message, message_size, "%s", err.message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    size_t stride = (size_t)cinfo.output_width * 3;
    pixels = (unsigned char *)malloc(stride * cinfo.output_height);
    if (!pixels) {
        snprintf(message, message_size, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return pixels;
}

/* Decodes a PNG held in memory into a malloc'd RGB buffer (alpha dropped, composited on nothing,
   16-bit reduced to 8); NULL on failure with the reason in message. */
static inline unsigned char *mlcore_png_decode(const unsigned char *data, unsigned long size, int *width,
                                               int *height, char *message, int message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        snprintf(message, message_size, "%s", image.message);
        return NULL;
    }
    image.format = PNG_FORMAT_RGB;
    unsigned char *pixels = (unsigned char *)malloc(PNG_IMAGE_SIZE(image));
    if (!pixels) {
        png_image_free(&image);
        snprintf(message, message_size, "out of memory");
        return NULL;
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        snprintf(message, message_size, "%s", image.message);
        free(pixels);
        return NULL;
    }
    *width = (int)image.width;
    *height = (int)image.height;
    return pixels;
}
#endif
